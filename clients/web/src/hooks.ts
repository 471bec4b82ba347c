import { useEffect, useState } from 'preact/hooks';
import type { Bloc, UserModel } from '@confab/sdk';
import type { Session } from './session.js';

/** The current state of a store, re-rendering on each new one. */
export function useBloc<S extends object>(bloc: Bloc<unknown, S>): S {
  const [state, setState] = useState(bloc.state);
  useEffect(() => bloc.subscribe(setState), [bloc]);
  return state;
}

/** The signed-in user as it is now (renamed on any device, the page re-renders). */
export function useUser(session: Session): UserModel {
  const [user, setUser] = useState(session.user);
  useEffect(() => {
    setUser(session.user);
    return session.onUserChanged(setUser);
  }, [session]);
  return user;
}

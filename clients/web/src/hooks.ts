import { useEffect, useState } from 'preact/hooks';
import type { Bloc } from '@confab/sdk';

/** The current state of a store, re-rendering on each new one. */
export function useBloc<S extends object>(bloc: Bloc<unknown, S>): S {
  const [state, setState] = useState(bloc.state);
  useEffect(() => bloc.subscribe(setState), [bloc]);
  return state;
}

import { useState } from 'preact/hooks';
import { ConfabError } from '@confab/sdk';
import type { SignedIn } from '@confab/sdk';
import { publicRest } from '../session.js';

export function SignInPage({ onSignedIn }: { onSignedIn: (signedIn: SignedIn) => void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const rest = publicRest();
      onSignedIn(mode === 'login'
        ? await rest.login({ username, password })
        : await rest.register({ username, password, display_name: displayName || null }));
    } catch (failure) {
      setError(failure instanceof ConfabError ? failure.message : 'Cannot reach the server.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page sign-in">
      <h1>Confab</h1>
      <form onSubmit={submit} aria-label={mode === 'login' ? 'Sign in' : 'Register'}>
        <label>Username<input name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} /></label>
        {mode === 'register' && (
          <label>Display name<input name="display_name" autoComplete="nickname" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} /></label>
        )}
        <label>Password<input name="password" type="password" autoComplete={mode === 'login' ? 'current-password' : 'new-password'} required value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{mode === 'login' ? 'Sign in' : 'Register'}</button>
      </form>
      <button type="button" class="link" onClick={() => setMode(mode === 'login' ? 'register' : 'login')}>
        {mode === 'login' ? 'New here? Register' : 'Have an account? Sign in'}
      </button>
    </main>
  );
}

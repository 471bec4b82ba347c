import type { ConnectionState } from '@confab/sdk';

/** Says when sends wait for the connection; announced to screen readers. */
export function OfflineBanner({ state }: { state: ConnectionState }) {
  if (state === 'online') return null;
  return (
    <div class="offline-banner" role="status" aria-live="polite" data-testid="offline-banner">
      {state === 'offline' ? 'You are offline. Messages will be sent when you are back.' : 'Connecting…'}
    </div>
  );
}

import { htmlDocumentUrl, useDocumentKinds } from '../api/experiment.hooks';
import { QueryView } from '../app/panel';
import type { TabProps } from './experiment.page';

/**
 * The logged HTML in a sandboxed frame. The HTML is untrusted: it is loaded from a URL the server
 * answers with `Content-Security-Policy: sandbox allow-scripts`, and the frame's own sandbox
 * lacks `allow-same-origin`, so its scripts run in an opaque origin: no cookies, no storage, no
 * access to this page or to the API as the signed-in user. Never srcdoc: that would put the
 * HTML into this origin's document.
 */
export function HtmlTab({ experimentKey }: TabProps) {
  const kinds = useDocumentKinds(experimentKey);
  return (
    <QueryView query={kinds}>
      {(logged) =>
        logged.includes('html') ? (
          <iframe
            className="html-frame"
            title="Logged HTML"
            sandbox="allow-scripts"
            referrerPolicy="no-referrer"
            src={htmlDocumentUrl(experimentKey)}
          />
        ) : (
          <p className="muted">No HTML was logged.</p>
        )
      }
    </QueryView>
  );
}

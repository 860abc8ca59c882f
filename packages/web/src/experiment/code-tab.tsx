import { useDocument } from '../api/experiment.hooks';
import { QueryView } from '../app/panel';
import type { TabProps } from './experiment.page';
import { VirtualLines } from './virtual-lines';

/** The logged source code, with line numbers; only the visible lines are in the DOM. */
export function CodeTab({ experimentKey }: TabProps) {
  const query = useDocument(experimentKey, 'code');
  return (
    <QueryView query={query}>
      {(code) => {
        if (code === null) return <p className="muted">No code was logged.</p>;
        const lines = code.split(/\r?\n/);
        if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
        return (
          <VirtualLines
            label="Code"
            className="code-lines"
            count={lines.length}
            renderLine={(index) => (
              <div className="code-line">
                <span className="line-number" aria-hidden="true">
                  {index + 1}
                </span>
                <span className="line-text">{lines[index]}</span>
              </div>
            )}
          />
        );
      }}
    </QueryView>
  );
}

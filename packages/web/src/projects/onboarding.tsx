import { useState } from 'react';
import { Link } from 'react-router';
import { CopyButton } from '../app/copy-button';
import './projects.css';

type Language = 'python' | 'typescript';
/** Shell lines (install, environment) and the program. */
export interface Snippet {
  shell: string;
  code: string;
}

/** Python with the unchanged comet_ml client (docs/clients/comet-python.md). */
export function pythonSnippet(origin: string, workspace: string, project: string): Snippet {
  const shell = `pip install comet_ml==3.32.5 'urllib3<2'
export COMET_URL_OVERRIDE=${origin}/clientlib/
export COMET_API_KEY=<your key>`;
  const code = `import comet_ml

exp = comet_ml.Experiment(workspace=${JSON.stringify(workspace)}, project_name=${JSON.stringify(project)})
exp.log_parameters({"lr": 0.01, "batch": 32})
for step in range(100):
    exp.log_metrics({"loss": 1 / (step + 1), "acc": step / 100}, step=step)
exp.end()`;
  return { shell, code };
}

/** TypeScript with Cairn's own SDK (docs/clients/typescript.md). */
export function typescriptSnippet(origin: string, workspace: string, project: string): Snippet {
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const shell = `npm install /path/to/cairn/packages/sdk
export CAIRN_API_KEY=<your key>`;
  const code = `import { Cairn } from '@cairn/sdk';

const cairn = new Cairn({ url: ${quote(origin)}, apiKey: process.env.CAIRN_API_KEY });
const run = await cairn.startExperiment({ workspace: ${quote(workspace)}, project: ${quote(project)}, name: 'first-run' });
run.logParams({ lr: 0.01, batch: 32 });
for (let step = 0; step < 100; step++) run.logMetrics({ loss: 1 / (step + 1), acc: step / 100 }, { step });
await run.end();`;
  return { shell, code };
}

/**
 * How to log the first experiment into a project: the exact lines, with this server's address and
 * the project filled in. Shown by an empty project and an empty home.
 */
export function Onboarding({ workspace, project }: { workspace: string; project: string }) {
  const [language, setLanguage] = useState<Language>('python');
  const origin = window.location.origin;
  const snippet =
    language === 'python' ? pythonSnippet(origin, workspace, project) : typescriptSnippet(origin, workspace, project);
  return (
    <section className="panel onboarding" aria-labelledby="onboarding-title">
      <div className="panel-header">
        <h2 id="onboarding-title">Log your first experiment</h2>
      </div>
      <div className="panel-body">
        <p className="muted">
          Run this with an API key of yours (make one in <Link to="/settings">Settings</Link>): the experiment shows up
          in <strong>{`${workspace}/${project}`}</strong> as it logs.
        </p>
        <div className="onboarding-bar">
          <div role="tablist" aria-label="Client" className="segmented">
            {(['python', 'typescript'] as const).map((option) => (
              <button
                key={option}
                type="button"
                role="tab"
                id={`onboarding-tab-${option}`}
                aria-selected={language === option}
                aria-controls="onboarding-code"
                className={language === option ? 'active' : ''}
                onClick={() => setLanguage(option)}
              >
                {option === 'python' ? 'Python (comet_ml)' : 'TypeScript (@cairn/sdk)'}
              </button>
            ))}
          </div>
        </div>
        <div id="onboarding-code" role="tabpanel" aria-labelledby={`onboarding-tab-${language}`}>
          <CodeWithCopy code={snippet.shell} label="Copy shell lines" testId="onboarding-shell" />
          <CodeWithCopy code={snippet.code} label="Copy code" testId="onboarding-code" />
        </div>
      </div>
    </section>
  );
}

function CodeWithCopy({ code, label, testId }: { code: string; label: string; testId: string }) {
  return (
    <div className="code-with-copy">
      <pre className="code-block" data-testid={testId}>
        {code}
      </pre>
      <CopyButton text={code} label={label} />
    </div>
  );
}

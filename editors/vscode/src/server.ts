// Finding and describing the language server: `dockwright --stdio`, from
// the `dockwright.server.path` setting or else from PATH, and the
// `dockwright` settings section the server reads (README, "Language server
// settings").
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

// The executable to run, or an error message saying what was tried.
export function findServer(): { path?: string; error?: string } {
  const cfg = vscode.workspace.getConfiguration('dockwright');
  const configured = (cfg.get<string>('server.path') || '').trim();
  if (configured) {
    const p = configured.startsWith('~/')
      ? path.join(process.env.HOME || '', configured.slice(2))
      : configured;
    if (isExecutable(p)) return { path: p };
    return { error: `dockwright.server.path: ${p} is not an executable file` };
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'dockwright');
    if (isExecutable(p)) return { path: p };
  }
  return {
    error: 'dockwright was not found on PATH; install it or set ' +
      'dockwright.server.path',
  };
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// The server's section, exactly the keys it knows: the extension's own
// settings (server.*, trace.*, build.*) stay on the client.
export function serverSection(scope?: vscode.Uri): object {
  const cfg = vscode.workspace.getConfiguration('dockwright', scope);
  const section: Record<string, unknown> = {
    diagnostics: {
      enable: cfg.get<boolean>('diagnostics.enable', true),
      debounceMs: cfg.get<number>('diagnostics.debounceMs', 0),
    },
    format: {
      indent: cfg.get<number>('format.indent', 4),
      operatorNewline: cfg.get<boolean>('format.operatorNewline', false),
    },
    inlayHints: {
      fromVariables: cfg.get<boolean>('inlayHints.fromVariables', true),
      copyFrom: cfg.get<boolean>('inlayHints.copyFrom', true),
    },
    rules: cfg.get<Record<string, string>>('rules', {}),
  };
  const root = (cfg.get<string>('root') || '').trim();
  if (root) section.root = root;
  const insecure = cfg.get<string[]>('insecureRegistries', []);
  if (Array.isArray(insecure) && insecure.length) section.insecureRegistries = insecure;
  return section;
}

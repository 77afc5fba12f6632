// The build commands: "Dockwright: Build Image", "Build and Push Image" and
// "Push Image".  Each asks for the tag (remembered per file), sends the
// server's workspace/executeCommand (dockwright.build, dockwright.push,
// dockwright.buildAndPush) with a work-done token of ours, and shows:
//   - the server's $/progress for that token in a cancellable notification
//     (vscode-languageclient would show server-created progress only in the
//     status bar, so the token is ours: LSP says a server reports on the
//     request's workDoneToken when there is one);
//   - the dockwright/buildLog notifications in the "Dockwright Build"
//     output channel;
//   - the last result in a status bar item.
// Cancel sends window/workDoneProgress/cancel for the token and
// $/cancelRequest for the request; the server ends the progress with
// "cancelled" and answers the request with an error.
import * as vscode from 'vscode';
import {
  CancellationTokenSource,
  ExecuteCommandRequest,
  LanguageClient,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';

export type Kind = 'build' | 'push' | 'buildAndPush';

const titles: Record<Kind, string> = {
  build: 'Building',
  push: 'Pushing',
  buildAndPush: 'Building and pushing',
};

// The argument object of the server's commands (docs/editor-protocol.md).
export interface BuildRequest {
  uri: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  context?: string;
  platform?: string;
  noCache?: boolean;
  output?: string;
}

interface BuildResult {
  digest?: string;
  tags?: string[];
  steps?: unknown[];
}

interface BuildLog {
  step?: number;
  stream?: string;
  text?: string;
}

interface LastResult {
  ok: boolean;
  text: string;
  tooltip: string;
}

export class Builds implements vscode.Disposable {
  private readonly log: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly last = new Map<string, LastResult>();
  private readonly running = new Set<string>();
  private seq = 0;
  private disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: () => LanguageClient | undefined,
  ) {
    this.log = vscode.window.createOutputChannel('Dockwright Build');
    this.status = vscode.window.createStatusBarItem(
      'dockwright.lastBuild', vscode.StatusBarAlignment.Left, 0);
    this.status.name = 'Dockwright: last build';
    this.status.command = 'dockwright.showBuildLog';
    this.disposables.push(
      this.log, this.status,
      vscode.window.onDidChangeActiveTextEditor(() => this.showStatus()),
    );
    this.showStatus();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
  }

  showLog(): void {
    this.log.show(true);
  }

  // Wired to the client's dockwright/buildLog notification.
  onBuildLog(params: BuildLog): void {
    if (typeof params?.text !== 'string') return;
    this.log.append(params.text.endsWith('\n') ? params.text : params.text + '\n');
  }

  // A command from the palette, the editor title bar (arg: the file's Uri),
  // a code lens (arg: the server's argument object) or another extension
  // (arg: {uri, tags, ...}, which skips the input box when tags are given).
  async run(kind: Kind, arg?: unknown): Promise<BuildResult | undefined> {
    const client = this.client();
    if (!client || !client.isRunning()) {
      void vscode.window.showErrorMessage(
        'Dockwright: the language server is not running (see the Dockwright output).');
      return undefined;
    }
    const given = toRequest(arg);
    const uri = given?.uri ? vscode.Uri.parse(given.uri)
      : arg instanceof vscode.Uri ? arg
      : vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showErrorMessage('Dockwright: open a Dockerfile first.');
      return undefined;
    }
    // No save first: the server builds the text the editor shows.

    const key = 'dockwright.tags:' + uri.toString();
    let tags = given?.tags;
    if (!tags || tags.length === 0) {
      const remembered = this.context.workspaceState.get<string>(key);
      const answer = await vscode.window.showInputBox({
        title: `Dockwright: ${titles[kind].toLowerCase()} ${basename(uri)}`,
        prompt: kind === 'build'
          ? 'Image tag(s), comma-separated; empty: a name derived from the directory'
          : 'Image tag(s) to push, comma-separated (registry/name:tag)',
        placeHolder: 'registry.example.com/name:tag',
        value: remembered ?? '',
        ignoreFocusOut: true,
        validateInput: (v) => validateTags(v, kind !== 'build'),
      });
      if (answer === undefined) return undefined;
      tags = splitTags(answer);
      await this.context.workspaceState.update(key, answer.trim());
    }

    const request: BuildRequest = { ...settingsRequest(uri), ...given, uri: uri.toString() };
    if (tags.length) request.tags = tags;
    if (this.running.has(request.uri)) {
      void vscode.window.showWarningMessage(
        `Dockwright: a build of ${basename(uri)} is already running.`);
      return undefined;
    }
    return this.execute(client, kind, uri, request);
  }

  private async execute(client: LanguageClient, kind: Kind, uri: vscode.Uri,
    request: BuildRequest): Promise<BuildResult | undefined> {
    const what = request.tags?.join(', ') || basename(uri);
    const token = `dockwright-vscode-${process.pid}-${++this.seq}`;
    this.log.appendLine(`--- ${titles[kind]} ${what} (${new Date().toLocaleTimeString()})`);
    this.running.add(request.uri);
    this.setLast(uri, { ok: true, text: `$(sync~spin) ${what}`, tooltip: `${titles[kind]} ${what}` });

    const outcome = await vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification,
      title: `Dockwright: ${titles[kind]} ${what}`,
      cancellable: true,
    }, async (progress, cancel) => {
      let percent = 0;
      let lastMessage = '';
      const sub = client.onProgress(WorkDoneProgress.type, token,
        (v: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
          if (v.message) {
            lastMessage = v.message;
            this.log.appendLine(`[progress] ${v.message}`);
          }
          if (v.kind === 'end') return;
          const p = v.percentage;
          const increment = typeof p === 'number' && p > percent ? p - percent : undefined;
          if (increment !== undefined) percent = p as number;
          progress.report({ message: v.message, increment });
        });
      const cts = new CancellationTokenSource();
      const onCancel = cancel.onCancellationRequested(() => {
        this.log.appendLine('[progress] cancel requested');
        void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
        cts.cancel();
      });
      try {
        const result: BuildResult = await client.sendRequest(ExecuteCommandRequest.type, {
          command: `dockwright.${kind}`,
          arguments: [request],
          workDoneToken: token,
        }, cts.token);
        return { result, lastMessage };
      } catch (e) {
        return { error: e, cancelled: cancel.isCancellationRequested, lastMessage };
      } finally {
        onCancel.dispose();
        sub.dispose();
        cts.dispose();
      }
    });
    this.running.delete(request.uri);

    if ('result' in outcome && outcome.result) {
      const r = outcome.result;
      const digest = r.digest ? shortDigest(r.digest) : '';
      const tagText = r.tags?.join(', ') || what;
      const steps = Array.isArray(r.steps) ? r.steps.length : 0;
      this.log.appendLine(`--- done: ${tagText} ${r.digest ?? ''} (${steps} steps)`);
      this.setLast(uri, {
        ok: true,
        text: `$(check) ${tagText} ${digest}`.trim(),
        tooltip: `Dockwright: ${kind} of ${basename(uri)} succeeded\n` +
          `${r.digest ?? ''}\n${r.tags?.join('\n') ?? ''}\n${steps} steps`,
      });
      void vscode.window.showInformationMessage(
        `Dockwright: ${tagText} ${kind === 'build' ? 'built' : 'pushed'} ${digest}`.trim());
      return r;
    }
    const cancelled = 'cancelled' in outcome && outcome.cancelled;
    const message = cancelled ? 'cancelled'
      : errorText('error' in outcome ? outcome.error : undefined);
    this.log.appendLine(`--- ${cancelled ? 'cancelled' : 'failed: ' + message}`);
    this.setLast(uri, {
      ok: false,
      text: cancelled ? `$(circle-slash) ${what} cancelled` : `$(error) ${what} failed`,
      tooltip: `Dockwright: ${kind} of ${basename(uri)}: ${message}`,
    });
    if (!cancelled) {
      void vscode.window.showErrorMessage(`Dockwright: ${message}`, 'Show Log')
        .then((b) => { if (b) this.showLog(); });
    }
    return undefined;
  }

  private setLast(uri: vscode.Uri, r: LastResult): void {
    this.last.set(uri.toString(), r);
    this.showStatus();
  }

  // The status bar shows the active Dockerfile's last result.
  private showStatus(): void {
    const doc = vscode.window.activeTextEditor?.document;
    const r = doc && this.last.get(doc.uri.toString());
    if (!r) {
      this.status.hide();
      return;
    }
    this.status.text = r.text;
    this.status.tooltip = r.tooltip;
    this.status.backgroundColor = r.ok ? undefined
      : new vscode.ThemeColor('statusBarItem.errorBackground');
    this.status.show();
  }
}

// The build.* settings as request fields (absent when unset).
function settingsRequest(uri: vscode.Uri): Partial<BuildRequest> {
  const cfg = vscode.workspace.getConfiguration('dockwright.build', uri);
  const r: Partial<BuildRequest> = {};
  const str = (k: string) => (cfg.get<string>(k) || '').trim();
  if (str('target')) r.target = str('target');
  if (str('context')) r.context = str('context');
  if (str('platform')) r.platform = str('platform');
  if (str('output')) r.output = str('output');
  const args = cfg.get<Record<string, string>>('buildArgs', {});
  if (args && Object.keys(args).length) r.buildArgs = args;
  if (cfg.get<boolean>('noCache', false)) r.noCache = true;
  return r;
}

function toRequest(arg: unknown): Partial<BuildRequest> | undefined {
  if (!arg || typeof arg !== 'object' || arg instanceof vscode.Uri) return undefined;
  const a = arg as Record<string, unknown>;
  if (typeof a.uri !== 'string') return undefined;
  return a as Partial<BuildRequest>;
}

export function splitTags(v: string): string[] {
  return v.split(/[,\s]+/).map((t) => t.trim()).filter((t) => t.length > 0);
}

// A reference: [host[:port]/]path[:tag][@digest], lower-case path
// components (Docker's reference grammar, loosely).
const refRe = /^(?:[A-Za-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

function validateTags(v: string, required: boolean): string | undefined {
  const tags = splitTags(v);
  if (tags.length === 0) return required ? 'a tag is needed to push' : undefined;
  const bad = tags.find((t) => !refRe.test(t));
  return bad ? `not an image reference: ${bad}` : undefined;
}

function basename(uri: vscode.Uri): string {
  return uri.path.split('/').pop() || uri.path;
}

function shortDigest(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}

function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as Error).message);
  return String(e);
}

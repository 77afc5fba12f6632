// The Dockwright extension: runs `dockwright --stdio` for Dockerfiles
// through vscode-languageclient and adds the build commands (build.ts).
//
// Language: the built-in `dockerfile` language id and its TextMate grammar
// are reused (package.json adds Containerfile, *.Dockerfile and
// *.containerfile to it), so other Dockerfile extensions, themes and
// `files.associations` keep working; highlighting comes from VS Code's
// grammar, everything else from the server.
import * as vscode from 'vscode';
import {
  ConfigurationParams,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import { Builds, Kind } from './build';
import { findServer, serverSection } from './server';

let client: LanguageClient | undefined;
let builds: Builds | undefined;
let serverLog: vscode.OutputChannel | undefined;

// Server command -> our command, so a code lens goes through the same
// input box, progress notification and log as the palette.
const lensCommands: Record<string, string> = {
  'dockwright.build': 'dockwright.buildImage',
  'dockwright.push': 'dockwright.pushImage',
  'dockwright.buildAndPush': 'dockwright.buildAndPushImage',
};

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  serverLog = vscode.window.createOutputChannel('Dockwright');
  builds = new Builds(context, () => client);
  context.subscriptions.push(serverLog, builds);

  const commands: [string, Kind][] = [
    ['dockwright.buildImage', 'build'],
    ['dockwright.buildAndPushImage', 'buildAndPush'],
    ['dockwright.pushImage', 'push'],
  ];
  for (const [id, kind] of commands)
    context.subscriptions.push(
      vscode.commands.registerCommand(id, (arg?: unknown) => builds?.run(kind, arg)));
  context.subscriptions.push(
    vscode.commands.registerCommand('dockwright.showBuildLog', () => builds?.showLog()),
    vscode.commands.registerCommand('dockwright.restartServer', () => restart()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dockwright.server')) void restart();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

async function start(): Promise<void> {
  const found = findServer();
  if (!found.path) {
    serverLog?.appendLine(found.error ?? 'dockwright not found');
    void vscode.window.showErrorMessage(`Dockwright: ${found.error}`);
    return;
  }
  const cfg = vscode.workspace.getConfiguration('dockwright');
  const logLevel = cfg.get<string>('server.logLevel', 'warn');
  const serverOptions: ServerOptions = {
    command: found.path,
    args: ['--stdio', '--log-level', logLevel],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'dockerfile' }],
    outputChannel: serverLog,
    initializationOptions: { dockwright: serverSection() },
    synchronize: { configurationSection: 'dockwright' },
    middleware: {
      workspace: {
        // Answer with the server's keys only (see serverSection).
        configuration: (params: ConfigurationParams) =>
          params.items.map((item) =>
            item.section === undefined || item.section === 'dockwright'
              ? serverSection(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
              : null),
      },
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        for (const lens of lenses ?? []) ourCommand(lens);
        return lenses;
      },
      resolveCodeLens: async (lens, token, next) => {
        const resolved = await next(lens, token);
        if (resolved) ourCommand(resolved);
        return resolved;
      },
    },
  };
  client = new LanguageClient('dockwright', 'Dockwright', serverOptions, clientOptions);
  // The build log goes to its own channel from dockwright/buildLog; this
  // tells the server not to send each line again as window/logMessage.
  client.registerFeature({
    fillClientCapabilities(caps) {
      caps.experimental = { ...(caps.experimental ?? {}), dockwright: { buildLog: true } };
    },
    initialize() {},
    getState: () => ({ kind: 'static' }),
    clear() {},
  });
  client.onNotification('dockwright/buildLog', (p) => builds?.onBuildLog(p));
  try {
    await client.start();
    serverLog?.appendLine(`dockwright: started ${found.path} --stdio`);
  } catch (e) {
    void vscode.window.showErrorMessage(`Dockwright: the server did not start: ${e}`);
  }
}

function ourCommand(lens: vscode.CodeLens): void {
  const c = lens.command;
  if (c && lensCommands[c.command]) c.command = lensCommands[c.command];
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.stop().catch(() => undefined);
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

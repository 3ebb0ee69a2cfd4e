// Starts `maclc lsp` for .marketing files. All the language work is in the server.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("maclc").get("path") || "maclc";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "maclc",
    "maclc",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "marketing" }, { scheme: "untitled", language: "marketing" }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher("**/*.marketing"),
      },
    }
  );
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// Two Kommo accounts connected to a custom chat channel through an explicit kommo provider, with the
// generated TypeScript SDK (sdk/nodejs). As written it targets the public demo channel of the amojo
// emulator (`kommo-chat emulator --demo`), like examples/yaml.
//
// The program runs inline through Pulumi's Automation API, so no Node.js language host is needed; the
// Pulumi CLI and the kommo plugin (`pulumi-resource-kommo`) come from this repository's .tools/bin and
// .venv/bin, and state goes to a local file backend:
//
//   npm ci && npm run build
//   node bin/index.js [up|preview|destroy] [--state DIR] [--stack NAME] [--base-url URL] [--config KEY=VALUE]...
//
// --state defaults to .pulumi-state/typescript-example in the repository, --base-url to the stack
// config `baseUrl`, else KOMMO_BASE_URL, else http://127.0.0.1:8765. The engine's progress goes to
// stderr; a JSON summary (changes and outputs) to stdout.
import * as kommo from "@kommo-provider/kommo";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

// The emulator's public demo channel: like moto's fake credentials, its secret only opens the emulator.
// For a real channel, read them from stack config: config.require("channelId"), config.requireSecret("channelSecret").
const DEMO_CHANNEL_ID = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41";
const DEMO_CHANNEL_SECRET = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10";

/** The Pulumi program: a provider for the channel, two connections, and what consumes their scope ids. */
export async function program(): Promise<Record<string, pulumi.Output<string>>> {
    const config = new pulumi.Config();
    const baseUrl = config.get("baseUrl") ?? process.env.KOMMO_BASE_URL ?? "http://127.0.0.1:8765";
    const webhookBaseUrl = config.get("webhookBaseUrl") ?? "https://bot.example.com/kommo/webhook";

    // One provider per channel: its id, secret and host.
    const demoChannel = new kommo.Provider("demoChannel", {
        channelId: DEMO_CHANNEL_ID,
        channelSecret: pulumi.secret(DEMO_CHANNEL_SECRET),
        baseUrl,
    });
    const support = new kommo.ChatChannelConnection("support", {
        accountId: "3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713",
        title: config.get("supportTitle") ?? "Support bot",
    }, { provider: demoChannel });
    const sales = new kommo.ChatChannelConnection("sales", {
        accountId: "c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54",
        title: "Sales bot",
        reconnectTriggers: ["installed 2026-11-25"],
    }, { provider: demoChannel });

    return {
        supportScopeId: support.scopeId,
        salesScopeId: sales.scopeId,
        // Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
        supportWebhookUrl: pulumi.interpolate`${webhookBaseUrl}/${support.scopeId}`,
    };
}

const OPERATIONS = ["up", "preview", "destroy"] as const;
type Operation = (typeof OPERATIONS)[number];

interface Options {
    operation: Operation;
    state: string;
    stack: string;
    baseUrl?: string;
    config: Record<string, string>;
}

const REPO = path.resolve(__dirname, "..", "..", "..");  // bin/index.js -> the repository

function options(argv: string[]): Options {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            state: { type: "string", default: path.join(REPO, ".pulumi-state", "typescript-example") },
            stack: { type: "string", default: "dev" },
            "base-url": { type: "string" },
            config: { type: "string", short: "c", multiple: true, default: [] },
        },
    });
    const operation = positionals[0] ?? "up";
    if (positionals.length > 1 || !(OPERATIONS as readonly string[]).includes(operation)) {
        throw new Error(`usage: node bin/index.js [${OPERATIONS.join("|")}] [--state DIR] [--stack NAME] ` +
            "[--base-url URL] [--config KEY=VALUE]...");
    }
    const config: Record<string, string> = {};
    for (const pair of values.config) {
        const at = pair.indexOf("=");
        if (at <= 0) {
            throw new Error(`--config takes KEY=VALUE, not ${JSON.stringify(pair)}`);
        }
        config[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return {
        operation: operation as Operation,
        state: path.resolve(values.state),
        stack: values.stack,
        baseUrl: values["base-url"],
        config,
    };
}

async function main(): Promise<void> {
    const opts = options(process.argv.slice(2));
    const backend = path.join(opts.state, "backend");
    const workDir = path.join(opts.state, "workspace");  // Pulumi.<stack>.yaml: config and encryption salt
    fs.mkdirSync(backend, { recursive: true });
    fs.mkdirSync(workDir, { recursive: true });
    const tools = path.join(REPO, ".tools");
    const pulumiCommand = fs.existsSync(path.join(tools, "bin", "pulumi"))
        ? await PulumiCommand.get({ root: tools })
        : await PulumiCommand.get();  // a `pulumi` on PATH
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: opts.stack, projectName: "kommo-typescript-example", program },
        {
            workDir,
            pulumiCommand,
            envVars: {
                PULUMI_BACKEND_URL: `file://${backend}`,
                PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "kommo-demo",
                PULUMI_SKIP_UPDATE_CHECK: "true",
                PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
                // The CLI finds the kommo plugin as pulumi-resource-kommo on PATH (this repository's .venv).
                PATH: [path.join(REPO, ".venv", "bin"), process.env.PATH ?? ""].join(path.delimiter),
            },
        },
    );
    const config = { ...opts.config, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) };
    for (const [key, value] of Object.entries(config)) {
        await stack.setConfig(key, { value });
    }

    const onOutput = (out: string): void => {
        process.stderr.write(out);
    };
    let changes: Record<string, number> | undefined;
    if (opts.operation === "preview") {
        changes = (await stack.preview({ onOutput })).changeSummary;
    } else if (opts.operation === "up") {
        changes = (await stack.up({ onOutput })).summary.resourceChanges;
    } else {
        changes = (await stack.destroy({ onOutput })).summary.resourceChanges;
    }
    const outputs: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(await stack.outputs())) {
        outputs[name] = output.secret ? "[secret]" : output.value;
    }
    process.stdout.write(JSON.stringify({ operation: opts.operation, changes: changes ?? {}, outputs }) + "\n");
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});

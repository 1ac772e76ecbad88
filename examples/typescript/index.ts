// A chat integration's vendor sets up its fleet of Kommo accounts with the generated TypeScript SDK
// (sdk/nodejs), through one kommo provider: the accounts come from stack config, each account's token
// from the provider's `tokenCommand`, and for each account the program looks it up (`getAccount`),
// connects it to the vendor's custom chat channel, routes the channel's chats to a pipeline with a lead
// source, and subscribes the bot's backend to the account's events. As written it targets the public
// demo channel and the two demo accounts, `demo` and `demo2`, of the emulator (`kommo-chat emulator
// --demo`), whose vendor token service hands out their tokens.
//
// The program runs inline through Pulumi's Automation API, so no Node.js language host is needed; the
// Pulumi CLI and the kommo plugin (`pulumi-resource-kommo`) come from this repository's .tools/bin and
// .venv/bin, and state goes to a local file backend:
//
//   npm ci && npm run build
//   node bin/index.js [up|preview|refresh|destroy] [--state DIR] [--stack NAME] [--base-url URL]
//       [--api-base-url URL] [--config KEY=VALUE]...
//
// --state defaults to .pulumi-state/typescript-example in the repository, --base-url to the stack
// config `baseUrl`, else KOMMO_BASE_URL, else http://127.0.0.1:8765; --api-base-url (the REST API v4)
// to the stack config `apiBaseUrl`, else KOMMO_API_BASE_URL, else the Chat API's URL (the emulator
// serves both). Config `accounts` (JSON: a list of account hosts) names the fleet, default
// ["demo","demo2"]; config `tokenCommand` (JSON: a program and its arguments) gives the tokens, default
// `kommo-chat token --url <baseUrl>/_emulator/vendor-tokens`, the emulator's vendor token service. No
// token is ever an argument: the command prints it to the plugin. Config `pipeline` names the sources'
// pipeline (left out: each account's main one), `supportTitle` and `botEventsUrl` change what they say.
// The engine's progress goes to stderr; a JSON summary (changes and outputs) to stdout.
import * as kommo from "@kommo-provider/kommo";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

// The emulator's public demo channel: like moto's fake credentials, the secret only opens the emulator.
// For a real channel, read both from stack config: config.require("channelId"),
// config.requireSecret("channelSecret") (set with `pulumi config set --secret channelSecret`).
const DEMO_CHANNEL_ID = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41";
const DEMO_CHANNEL_SECRET = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10";
const DEMO_ACCOUNTS = ["demo", "demo2"];

/** What the bot needs from one account's setup. */
interface AccountSetup {
    scopeId: pulumi.Output<string>;
    webhookUrl: pulumi.Output<string>;
    sourceId: pulumi.Output<number>;
    sourceExternalId: pulumi.Output<string>;
    pipelineId: pulumi.Output<number | undefined>;
    webhookId: pulumi.Output<number>;
}

/** The Pulumi program: one provider for the channel and every account, then each account's setup. */
export async function program(): Promise<Record<string, unknown>> {
    const config = new pulumi.Config();
    const baseUrl = config.get("baseUrl") ?? process.env.KOMMO_BASE_URL ?? "http://127.0.0.1:8765";
    const apiBaseUrl = config.get("apiBaseUrl") ?? (process.env.KOMMO_API_BASE_URL || baseUrl);
    const accounts = config.getObject<unknown>("accounts") ?? DEMO_ACCOUNTS;
    if (!Array.isArray(accounts) || accounts.length === 0 || !accounts.every((a) => typeof a === "string")) {
        throw new Error('config accounts: a JSON list of account hosts, such as ["acme.kommo.com","globex"]');
    }
    // A vendor's own command asks its backend, which keeps and refreshes each account's OAuth token,
    // for the token of the account in $KOMMO_ACCOUNT: `kommo-chat token --url https://tokens.example.com/kommo`
    // (its key in KOMMO_TOKEN_SERVICE_KEY), or a program of its own that prints the token.
    const tokenCommand = config.getObject<string[]>("tokenCommand") ??
        ["kommo-chat", "token", "--url", `${baseUrl}/_emulator/vendor-tokens`];

    // One provider for the fleet: the channel (its id, secret and host) and where each account's token
    // comes from. Each object names its account. For real Kommo, drop apiBaseUrl: each account's REST
    // API is then its own host (https://<account>.kommo.com).
    const fleet = new kommo.Provider("fleet", {
        channelId: DEMO_CHANNEL_ID,
        channelSecret: pulumi.secret(DEMO_CHANNEL_SECRET),
        baseUrl,
        tokenCommand,
        apiBaseUrl,
    });

    const setups: Record<string, AccountSetup> = {};
    for (const account of accounts as string[]) {
        setups[account] = setUpAccount(account, fleet, config);
    }
    return { accounts: setups };
}

/** One account of the fleet: looked up, connected, given a lead source and an events webhook. */
function setUpAccount(account: string, fleet: kommo.Provider, config: pulumi.Config): AccountSetup {
    const webhookBaseUrl = config.get("webhookBaseUrl") ?? "https://bot.example.com/kommo/webhook";
    const botEventsUrl = config.get("botEventsUrl") ?? "https://bot.example.com/kommo/events";
    const pipelineName = config.get("pipeline");

    // The account looked up with its own token: its amojoId is what a connection's accountId takes.
    const found = kommo.getAccountOutput({ account }, { provider: fleet });
    const support = new kommo.ChatChannelConnection(`${account}-support`, {
        accountId: found.amojoId,
        title: config.get("supportTitle") ?? "Support bot",
    }, { provider: fleet });

    // Chats the bot creates with the source's externalId make leads in its pipeline: the one named by
    // config `pipeline`, else (pipelineId left out) the account's main pipeline.
    const pipelineId = pipelineName === undefined ? undefined
        : kommo.getPipelinesOutput({ account }, { provider: fleet }).apply(({ pipelines }) => {
            const named = pipelines.find((p) => p.name === pipelineName);
            if (named === undefined) {
                const names = pipelines.map((p) => JSON.stringify(p.name)).join(", ");
                throw new Error(`config pipeline: account ${account} has no pipeline named ` +
                    `${JSON.stringify(pipelineName)}; it has ${names}`);
            }
            return named.id;
        });
    const source = new kommo.Source(`${account}-source`, {
        account,
        name: "Support bot chats",
        externalId: "support-bot",
        pipelineId,
    }, { provider: fleet });
    // The account's events the bot's backend wants, posted to its URL (each post names the account).
    const events = new kommo.Webhook(`${account}-events`, {
        account,
        destination: botEventsUrl,
        settings: ["add_message", "status_lead"],
    }, { provider: fleet });

    return {
        scopeId: support.scopeId,
        // Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
        webhookUrl: pulumi.interpolate`${webhookBaseUrl}/${support.scopeId}`,
        // What the bot needs to create chats that land in the source's pipeline.
        sourceId: source.sourceId,
        sourceExternalId: source.externalId,
        pipelineId: source.pipelineId,
        webhookId: events.webhookId,
    };
}

const OPERATIONS = ["up", "preview", "refresh", "destroy"] as const;
type Operation = (typeof OPERATIONS)[number];

interface Options {
    operation: Operation;
    state: string;
    stack: string;
    baseUrl?: string;
    apiBaseUrl?: string;
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
            "api-base-url": { type: "string" },
            config: { type: "string", short: "c", multiple: true, default: [] },
        },
    });
    const operation = positionals[0] ?? "up";
    if (positionals.length > 1 || !(OPERATIONS as readonly string[]).includes(operation)) {
        throw new Error(`usage: node bin/index.js [${OPERATIONS.join("|")}] [--state DIR] [--stack NAME] ` +
            "[--base-url URL] [--api-base-url URL] [--config KEY=VALUE]...");
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
        apiBaseUrl: values["api-base-url"],
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
    const config = {
        ...opts.config,
        ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
        ...(opts.apiBaseUrl ? { apiBaseUrl: opts.apiBaseUrl } : {}),
    };
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
    } else if (opts.operation === "refresh") {
        changes = (await stack.refresh({ onOutput })).summary.resourceChanges;
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

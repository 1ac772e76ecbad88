// A Kommo integration's setup for one account with the generated TypeScript SDK (sdk/nodejs), through
// explicit kommo providers: look the account up, connect it to a custom chat channel (and a second
// account by its amojo_id), route the channel's chats to a pipeline with a lead source, and subscribe
// the bot's backend to the account's events. As written it targets the public demo channel and demo
// account of the emulator (`kommo-chat emulator --demo`), like examples/yaml.
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
// serves both). The access token comes from KOMMO_ACCESS_TOKEN, else it is the emulator's public demo
// token; it is never an argument. Config `pipeline` names the source's pipeline (left out: the main
// one), `supportTitle` and `botEventsUrl` change what they say. The engine's progress goes to stderr;
// a JSON summary (changes and outputs) to stdout.
import * as kommo from "@kommo-provider/kommo";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

// The emulator's public demo channel and demo account: like moto's fake credentials, the secret and the
// token only open the emulator. For a real channel, read them from stack config:
// config.require("channelId"), config.requireSecret("channelSecret"); for a real account, set
// accountDomain (its subdomain) instead of apiBaseUrl, and the account's long-lived token in
// KOMMO_ACCESS_TOKEN or in secret config (config.requireSecret("accessToken")).
const DEMO_CHANNEL_ID = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41";
const DEMO_CHANNEL_SECRET = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10";
const DEMO_ACCOUNT_DOMAIN = "demo";
const DEMO_ACCESS_TOKEN =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJlMWE3YzNmNS0yYjlkLTRjNmUtOGYwYS01ZDNiN2U5YzFhMjQiLCJqdGkiOiIwZDNmNmIxYzllMmE0NzU4OGE2ZTFiN2M0ZDJmOWEzZSIsImlhdCI6MTc2NzIyNTYwMCwibmJmIjoxNzY3MjI1NjAwLCJleHAiOjQxMDI0NDQ4MDAsInN1YiI6IjgwMDAwMDEiLCJncmFudF90eXBlIjoiIiwiYWNjb3VudF9pZCI6MzAwMDAwMDEsImJhc2VfZG9tYWluIjoia29tbW8uY29tIiwidmVyc2lvbiI6Miwic2NvcGVzIjpbImNybSIsImZpbGVzIiwiZmlsZXNfZGVsZXRlIiwibm90aWZpY2F0aW9ucyIsInB1c2hfbm90aWZpY2F0aW9ucyJdfQ.9kFzT_ri6lJvBXHP2FJiZN3vVcB0BaJm61LdmVfAcwE";

/** The Pulumi program: a provider for the channel and one for the account, the account's connection,
 * its lead source and events webhook, and what the bot needs from them. */
export async function program(): Promise<Record<string, pulumi.Output<unknown>>> {
    const config = new pulumi.Config();
    const baseUrl = config.get("baseUrl") ?? process.env.KOMMO_BASE_URL ?? "http://127.0.0.1:8765";
    const apiBaseUrl = config.get("apiBaseUrl") ?? (process.env.KOMMO_API_BASE_URL || baseUrl);
    const webhookBaseUrl = config.get("webhookBaseUrl") ?? "https://bot.example.com/kommo/webhook";
    const botEventsUrl = config.get("botEventsUrl") ?? "https://bot.example.com/kommo/events";
    const pipelineName = config.get("pipeline");

    // One provider per channel: its id, secret and host.
    const demoChannel = new kommo.Provider("demoChannel", {
        channelId: DEMO_CHANNEL_ID,
        channelSecret: pulumi.secret(DEMO_CHANNEL_SECRET),
        baseUrl,
    });
    // One provider per account for the REST API v4: its host and a long-lived token (a secret).
    const demoAccount = new kommo.Provider("demoAccount", {
        accountDomain: DEMO_ACCOUNT_DOMAIN,
        accessToken: pulumi.secret(process.env.KOMMO_ACCESS_TOKEN || DEMO_ACCESS_TOKEN),
        apiBaseUrl,
    });

    // The account looked up by its token: its amojoId is what a connection's accountId takes.
    const account = kommo.getAccountOutput({ provider: demoAccount });
    const support = new kommo.ChatChannelConnection("support", {
        accountId: account.amojoId,
        title: config.get("supportTitle") ?? "Support bot",
    }, { provider: demoChannel });
    // An account without a token in this stack: its amojo_id, written down.
    const sales = new kommo.ChatChannelConnection("sales", {
        accountId: "c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54",
        title: "Sales bot",
        reconnectTriggers: ["installed 2026-11-25"],
    }, { provider: demoChannel });

    // Chats the bot creates with the source's externalId make leads in its pipeline: the one named by
    // config `pipeline`, else (pipelineId left out) the account's main pipeline.
    const pipelineId = pipelineName === undefined ? undefined : kommo.getPipelinesOutput({ provider: demoAccount })
        .apply(({ pipelines }) => {
            const found = pipelines.find((p) => p.name === pipelineName);
            if (found === undefined) {
                const names = pipelines.map((p) => JSON.stringify(p.name)).join(", ");
                throw new Error(`config pipeline: the account has no pipeline named ${JSON.stringify(pipelineName)}; ` +
                    `it has ${names}`);
            }
            return found.id;
        });
    const supportSource = new kommo.Source("supportSource", {
        name: "Support bot chats",
        externalId: "support-bot",
        pipelineId,
    }, { provider: demoAccount });
    // The account's events the bot's backend wants, posted to its URL.
    const botEvents = new kommo.Webhook("botEvents", {
        destination: botEventsUrl,
        settings: ["add_message", "status_lead"],
    }, { provider: demoAccount });

    return {
        supportScopeId: support.scopeId,
        salesScopeId: sales.scopeId,
        // Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
        supportWebhookUrl: pulumi.interpolate`${webhookBaseUrl}/${support.scopeId}`,
        // What the bot needs to create chats that land in the source's pipeline, and where events arrive.
        supportSourceExternalId: supportSource.externalId,
        supportSourceId: supportSource.sourceId,
        supportPipelineId: supportSource.pipelineId,
        botEventsUrl: botEvents.destination,
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

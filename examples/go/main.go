// Command kommo-go-example sets up a chat integration vendor's fleet of Kommo accounts with the
// generated Go SDK (sdk/go/kommo), through one kommo provider: the accounts come from stack config, each
// account's token from the provider's TokenCommand, and for each account it looks the account up
// (GetAccount), connects it to the vendor's custom chat channel, routes the channel's chats to a pipeline
// with a lead source, and subscribes the bot's backend to the account's events. As written it targets
// the public demo channel and the two demo accounts, demo and demo2, of the emulator (`kommo-chat
// emulator --demo`), whose vendor token service hands out their tokens.
//
// The program runs inline through Pulumi's Automation API, so no Go language host is needed; the
// Pulumi CLI and the kommo plugin (pulumi-resource-kommo) come from this repository's .tools/bin and
// .venv/bin, and state goes to a local file backend:
//
//	go run . [-state DIR] [-stack NAME] [-base-url URL] [-api-base-url URL] [-config KEY=VALUE]... [up|preview|refresh|destroy]
//
// -state defaults to .pulumi-state/go-example in the repository, -base-url to the stack config
// baseUrl, else KOMMO_BASE_URL, else http://127.0.0.1:8765; -api-base-url (the REST API v4) to the
// stack config apiBaseUrl, else KOMMO_API_BASE_URL, else the Chat API's URL (the emulator serves
// both). Config accounts (JSON: a list of account hosts) names the fleet, default ["demo","demo2"];
// config tokenCommand (JSON: a program and its arguments) gives the tokens, default `kommo-chat token
// --url <baseUrl>/_emulator/vendor-tokens`, the emulator's vendor token service. No token is ever an
// argument: the command prints it to the plugin. Config pipeline names the sources' pipeline (left
// out: each account's main one), supportTitle and botEventsUrl change what they say. The engine's
// progress goes to stderr; a JSON summary (changes and outputs) to stdout. Flags come before the
// operation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kommo-provider/kommo-provider/sdk/go/kommo"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// The emulator's public demo channel: like moto's fake credentials, the secret only opens the
// emulator. For a real channel, read both from stack config: cfg.Require("channelId"),
// cfg.RequireSecret("channelSecret") (set with `pulumi config set --secret channelSecret`).
const (
	demoChannelID     = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
	demoChannelSecret = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"
)

// program is the Pulumi program: one provider for the channel and every account, then each account's
// setup.
func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	baseURL := firstOf(cfg.Get("baseUrl"), os.Getenv("KOMMO_BASE_URL"), "http://127.0.0.1:8765")
	apiBaseURL := firstOf(cfg.Get("apiBaseUrl"), os.Getenv("KOMMO_API_BASE_URL"), baseURL)
	accounts := []string{"demo", "demo2"} // the emulator's demo accounts
	if err := cfg.TryObject("accounts", &accounts); err != nil && !errors.Is(err, config.ErrMissingVar) {
		return fmt.Errorf(`config accounts: a JSON list of account hosts, such as ["acme.kommo.com","globex"]: %w`, err)
	}
	if len(accounts) == 0 {
		return errors.New(`config accounts: a JSON list of account hosts, such as ["acme.kommo.com","globex"]`)
	}
	// A vendor's own command asks its backend, which keeps and refreshes each account's OAuth token,
	// for the token of the account in $KOMMO_ACCOUNT: `kommo-chat token --url
	// https://tokens.example.com/kommo` (its key in KOMMO_TOKEN_SERVICE_KEY), or a program of its own
	// that prints the token.
	tokenCommand := []string{"kommo-chat", "token", "--url", baseURL + "/_emulator/vendor-tokens"}
	if err := cfg.TryObject("tokenCommand", &tokenCommand); err != nil && !errors.Is(err, config.ErrMissingVar) {
		return fmt.Errorf("config tokenCommand: a JSON list, a program and its arguments: %w", err)
	}

	// One provider for the fleet: the channel (its id, secret and host) and where each account's token
	// comes from. Each object names its account. For real Kommo, drop ApiBaseUrl: each account's REST
	// API is then its own host (https://<account>.kommo.com).
	fleet, err := kommo.NewProvider(ctx, "fleet", &kommo.ProviderArgs{
		ChannelId:     pulumi.String(demoChannelID),
		ChannelSecret: pulumi.ToSecret(pulumi.String(demoChannelSecret)).(pulumi.StringOutput),
		BaseUrl:       pulumi.String(baseURL),
		TokenCommand:  pulumi.ToStringArray(tokenCommand),
		ApiBaseUrl:    pulumi.String(apiBaseURL),
	})
	if err != nil {
		return err
	}
	setups := pulumi.Map{}
	for _, account := range accounts {
		setup, err := setUpAccount(ctx, cfg, fleet, account)
		if err != nil {
			return err
		}
		setups[account] = setup
	}
	ctx.Export("accounts", setups)
	return nil
}

// setUpAccount sets up one account of the fleet: looked up, connected, given a lead source and an
// events webhook. It answers what the bot needs from them.
func setUpAccount(ctx *pulumi.Context, cfg *config.Config, fleet *kommo.Provider, account string) (pulumi.Map, error) {
	webhookBaseURL := firstOf(cfg.Get("webhookBaseUrl"), "https://bot.example.com/kommo/webhook")
	botEventsURL := firstOf(cfg.Get("botEventsUrl"), "https://bot.example.com/kommo/events")

	// The account looked up with its own token: its AmojoId is what a connection's AccountId takes.
	found := kommo.GetAccountOutput(ctx, kommo.GetAccountOutputArgs{Account: pulumi.String(account)},
		pulumi.Provider(fleet))
	support, err := kommo.NewChatChannelConnection(ctx, account+"-support", &kommo.ChatChannelConnectionArgs{
		AccountId: found.AmojoId(),
		Title:     pulumi.String(firstOf(cfg.Get("supportTitle"), "Support bot")),
	}, pulumi.Provider(fleet))
	if err != nil {
		return nil, err
	}

	// Chats the bot creates with the source's ExternalId make leads in its pipeline: the one named by
	// config pipeline, else (PipelineId left out) the account's main pipeline.
	var pipelineID pulumi.IntPtrInput
	if name := cfg.Get("pipeline"); name != "" {
		named := func(listed kommo.GetPipelinesResult) (int, error) {
			return pipelineNamed(listed.Pipelines, name, account)
		}
		pipelines := kommo.GetPipelinesOutput(ctx, kommo.GetPipelinesOutputArgs{Account: pulumi.String(account)},
			pulumi.Provider(fleet))
		pipelineID = pipelines.ApplyT(named).(pulumi.IntOutput).ToIntPtrOutput()
	}
	source, err := kommo.NewSource(ctx, account+"-source", &kommo.SourceArgs{
		Account:    pulumi.String(account),
		Name:       pulumi.String("Support bot chats"),
		ExternalId: pulumi.String("support-bot"),
		PipelineId: pipelineID,
	}, pulumi.Provider(fleet))
	if err != nil {
		return nil, err
	}
	// The account's events the bot's backend wants, posted to its URL (each post names the account).
	events, err := kommo.NewWebhook(ctx, account+"-events", &kommo.WebhookArgs{
		Account:     pulumi.String(account),
		Destination: pulumi.String(botEventsURL),
		Settings:    pulumi.ToStringArray([]string{"add_message", "status_lead"}),
	}, pulumi.Provider(fleet))
	if err != nil {
		return nil, err
	}
	return pulumi.Map{
		"scopeId": support.ScopeId,
		// Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
		"webhookUrl": pulumi.Sprintf("%s/%s", webhookBaseURL, support.ScopeId),
		// What the bot needs to create chats that land in the source's pipeline.
		"sourceId":         source.SourceId,
		"sourceExternalId": source.ExternalId,
		"pipelineId":       source.PipelineId,
		"webhookId":        events.WebhookId,
	}, nil
}

// pipelineNamed is the id of the account's pipeline called name; the names it has when there is none.
func pipelineNamed(pipelines []kommo.Pipeline, name, account string) (int, error) {
	names := make([]string, 0, len(pipelines))
	for _, pipeline := range pipelines {
		if pipeline.Name == name {
			return pipeline.Id, nil
		}
		names = append(names, fmt.Sprintf("%q", pipeline.Name))
	}
	return 0, fmt.Errorf("config pipeline: account %s has no pipeline named %q; it has %s", account, name,
		strings.Join(names, ", "))
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// configFlags collects repeated -config KEY=VALUE flags.
type configFlags map[string]string

func (c configFlags) String() string { return fmt.Sprint(map[string]string(c)) }

func (c configFlags) Set(pair string) error {
	key, value, ok := strings.Cut(pair, "=")
	if !ok || key == "" {
		return fmt.Errorf("takes KEY=VALUE, not %q", pair)
	}
	c[key] = value
	return nil
}

// repoRoot is the repository this example lives in: the folder above that holds examples/go/go.mod,
// searched from this source file (go run) or else from the working directory (a -trimpath build).
func repoRoot() string {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	wd, _ := os.Getwd()
	starts = append(starts, wd)
	for _, dir := range starts {
		for ; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "examples", "go", "go.mod")); err == nil {
				return dir
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return wd
}

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	repo := repoRoot()
	flags := flag.NewFlagSet("kommo-go-example", flag.ContinueOnError)
	state := flags.String("state", filepath.Join(repo, ".pulumi-state", "go-example"), "folder for the backend and workspace")
	stackName := flags.String("stack", "dev", "stack name")
	baseURL := flags.String("base-url", "", "the Chat API host (saved as the stack config baseUrl)")
	apiBaseURL := flags.String("api-base-url", "", "the REST API v4 host (saved as the stack config apiBaseUrl)")
	settings := configFlags{}
	flags.Var(settings, "config", "stack config KEY=VALUE (repeatable)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	operation := firstOf(flags.Arg(0), "up")
	if flags.NArg() > 1 || !isOperation(operation) {
		return errors.New("usage: kommo-go-example [flags] [up|preview|refresh|destroy]")
	}
	if *baseURL != "" {
		settings["baseUrl"] = *baseURL
	}
	if *apiBaseURL != "" {
		settings["apiBaseUrl"] = *apiBaseURL
	}

	root, err := filepath.Abs(*state)
	if err != nil {
		return err
	}
	backend, workDir := filepath.Join(root, "backend"), filepath.Join(root, "workspace")
	for _, dir := range []string{backend, workDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	passphrase := firstOf(os.Getenv("PULUMI_CONFIG_PASSPHRASE"), "kommo-demo")
	opts := []auto.LocalWorkspaceOption{
		auto.WorkDir(workDir), // Pulumi.<stack>.yaml: config and encryption salt
		auto.EnvVars(map[string]string{
			"PULUMI_BACKEND_URL":                   "file://" + backend,
			"PULUMI_CONFIG_PASSPHRASE":             passphrase,
			"PULUMI_SKIP_UPDATE_CHECK":             "true",
			"PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
			// The CLI finds the kommo plugin as pulumi-resource-kommo on PATH (this repository's .venv).
			"PATH": filepath.Join(repo, ".venv", "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		}),
	}
	tools := filepath.Join(repo, ".tools")
	if _, err := os.Stat(filepath.Join(tools, "bin", "pulumi")); err == nil {
		cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: tools})
		if err != nil {
			return err
		}
		opts = append(opts, auto.Pulumi(cmd))
	}
	stack, err := auto.UpsertStackInlineSource(ctx, *stackName, "kommo-go-example", program, opts...)
	if err != nil {
		return err
	}
	for key, value := range settings {
		if err := stack.SetConfig(ctx, key, auto.ConfigValue{Value: value}); err != nil {
			return err
		}
	}

	var changes map[string]int
	switch operation {
	case "preview":
		res, err := stack.Preview(ctx, optpreview.ProgressStreams(os.Stderr))
		if err != nil {
			return err
		}
		changes = map[string]int{}
		for op, n := range res.ChangeSummary {
			changes[string(op)] = n
		}
	case "up":
		res, err := stack.Up(ctx, optup.ProgressStreams(os.Stderr))
		if err != nil {
			return err
		}
		changes = derefChanges(res.Summary.ResourceChanges)
	case "refresh":
		res, err := stack.Refresh(ctx, optrefresh.ProgressStreams(os.Stderr))
		if err != nil {
			return err
		}
		changes = derefChanges(res.Summary.ResourceChanges)
	case "destroy":
		res, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
		if err != nil {
			return err
		}
		changes = derefChanges(res.Summary.ResourceChanges)
	}
	outs, err := stack.Outputs(ctx)
	if err != nil {
		return err
	}
	outputs := map[string]any{}
	for name, out := range outs {
		if out.Secret {
			outputs[name] = "[secret]"
		} else {
			outputs[name] = out.Value
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"operation": operation, "changes": changes, "outputs": outputs,
	})
}

func isOperation(operation string) bool {
	switch operation {
	case "up", "preview", "refresh", "destroy":
		return true
	}
	return false
}

func derefChanges(changes *map[string]int) map[string]int {
	if changes == nil {
		return map[string]int{}
	}
	return *changes
}

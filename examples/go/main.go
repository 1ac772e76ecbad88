// Command kommo-go-example connects two Kommo accounts to a custom chat channel through an explicit
// kommo provider, with the generated Go SDK (sdk/go/kommo). As written it targets the public demo
// channel of the amojo emulator (`kommo-chat emulator --demo`), like examples/yaml.
//
// The program runs inline through Pulumi's Automation API, so no Go language host is needed; the
// Pulumi CLI and the kommo plugin (pulumi-resource-kommo) come from this repository's .tools/bin and
// .venv/bin, and state goes to a local file backend:
//
//	go run . [up|preview|destroy] [-state DIR] [-stack NAME] [-base-url URL] [-config KEY=VALUE]...
//
// -state defaults to .pulumi-state/go-example in the repository, -base-url to the stack config
// baseUrl, else KOMMO_BASE_URL, else http://127.0.0.1:8765. The engine's progress goes to stderr; a
// JSON summary (changes and outputs) to stdout. Flags come before the operation.
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
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// The emulator's public demo channel: like moto's fake credentials, its secret only opens the emulator.
// For a real channel, read them from stack config: cfg.Require("channelId"), cfg.RequireSecret("channelSecret").
const (
	demoChannelID     = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
	demoChannelSecret = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"
)

// program is the Pulumi program: a provider for the channel, two connections, and what consumes
// their scope ids.
func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	baseURL := firstOf(cfg.Get("baseUrl"), os.Getenv("KOMMO_BASE_URL"), "http://127.0.0.1:8765")
	webhookBaseURL := firstOf(cfg.Get("webhookBaseUrl"), "https://bot.example.com/kommo/webhook")

	// One provider per channel: its id, secret and host.
	demoChannel, err := kommo.NewProvider(ctx, "demoChannel", &kommo.ProviderArgs{
		ChannelId:     pulumi.String(demoChannelID),
		ChannelSecret: pulumi.ToSecret(pulumi.String(demoChannelSecret)).(pulumi.StringOutput),
		BaseUrl:       pulumi.String(baseURL),
	})
	if err != nil {
		return err
	}
	support, err := kommo.NewChatChannelConnection(ctx, "support", &kommo.ChatChannelConnectionArgs{
		AccountId: pulumi.String("3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713"),
		Title:     pulumi.String(firstOf(cfg.Get("supportTitle"), "Support bot")),
	}, pulumi.Provider(demoChannel))
	if err != nil {
		return err
	}
	sales, err := kommo.NewChatChannelConnection(ctx, "sales", &kommo.ChatChannelConnectionArgs{
		AccountId:         pulumi.String("c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54"),
		Title:             pulumi.String("Sales bot"),
		ReconnectTriggers: pulumi.StringArray{pulumi.String("installed 2026-11-25")},
	}, pulumi.Provider(demoChannel))
	if err != nil {
		return err
	}

	ctx.Export("supportScopeId", support.ScopeId)
	ctx.Export("salesScopeId", sales.ScopeId)
	// Kommo posts the account's chat webhooks to the channel URL with the scope_id in its path.
	ctx.Export("supportWebhookUrl", pulumi.Sprintf("%s/%s", webhookBaseURL, support.ScopeId))
	return nil
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
	settings := configFlags{}
	flags.Var(settings, "config", "stack config KEY=VALUE (repeatable)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	operation := firstOf(flags.Arg(0), "up")
	if flags.NArg() > 1 || (operation != "up" && operation != "preview" && operation != "destroy") {
		return errors.New("usage: kommo-go-example [flags] [up|preview|destroy]")
	}
	if *baseURL != "" {
		settings["baseUrl"] = *baseURL
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

func derefChanges(changes *map[string]int) map[string]int {
	if changes == nil {
		return map[string]int{}
	}
	return *changes
}

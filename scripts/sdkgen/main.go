// Command sdkgen generates the kommo package's TypeScript, Python and Go SDKs from its schema.
//
// It runs Pulumi's own generators (pkg/v3/codegen/{nodejs,python,go}) in-process, so no language host
// is needed. The schema must carry a version (`python -m kommo_provider.plugin.schema` sets it from
// the installed package); without one the Python SDK would say 0.0.0. scripts/gen-sdk.sh builds and
// runs it:
//
//	sdkgen -schema schema.json -out sdk           # or -schema - to read standard input
//
// Layout under -out, as Pulumi's native providers (pulumi-command, pulumi-random) lay out sdk/:
//
//	nodejs/    the npm package @kommo-provider/kommo (TypeScript sources; built by its postinstall)
//	python/    the pip-installable pulumi_kommo
//	go/kommo/  the Go package github.com/kommo-provider/kommo-provider/sdk/go/kommo
//	go.mod     the Go module github.com/kommo-provider/kommo-provider/sdk (go.sum: `go mod tidy`)
//
// Files a previous run generated and this run does not are removed; build outputs and installed
// dependencies (node_modules, bin, __pycache__, *.egg-info, build, dist) are left alone.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool is named in the header of every generated file.
const tool = "kommo-provider scripts/gen-sdk.sh"

// goSDKModule is the Go SDK's module path: the import base path of the schema minus "/go/<pkg>".
const goSDKModule = "github.com/kommo-provider/kommo-provider/sdk"

// Folders below a language folder that hold build outputs or installed dependencies, never generated files.
var keep = map[string]bool{
	"node_modules": true, "bin": true, "__pycache__": true, "build": true, "dist": true, ".mypy_cache": true,
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "sdkgen: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stderr io.Writer) error {
	flags := flag.NewFlagSet("sdkgen", flag.ContinueOnError)
	flags.SetOutput(stderr)
	schemaPath := flags.String("schema", "-", "the versioned package schema (JSON); - reads standard input")
	out := flags.String("out", "sdk", "the folder that receives nodejs/, python/, go/ and go.mod")
	languages := flags.String("languages", "nodejs,python,go", "comma-separated languages to generate")
	pulumiSDK := flags.String("pulumi-go-sdk", "v3.274.1", "the github.com/pulumi/pulumi/sdk/v3 version the Go SDK's go.mod requires")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %v", flags.Args())
	}

	raw, err := readSchema(*schemaPath, stdin)
	if err != nil {
		return err
	}
	for _, lang := range strings.Split(*languages, ",") {
		// Each generator annotates the bound package (pkg.Language), so each gets a fresh binding.
		pkg, err := bind(raw)
		if err != nil {
			return err
		}
		var files map[string][]byte
		var dir string
		switch lang {
		case "nodejs":
			dir = "nodejs"
			// localSDK: the package compiles itself with tsc when npm installs it (`file:` dependency),
			// the way `pulumi package add` ships SDKs that are not published to a registry.
			files, err = nodejsgen.GeneratePackage(tool, pkg, nil, nil, true, noPackages{})
		case "python":
			dir = "python"
			files, err = pythongen.GeneratePackage(tool, pkg, nil, noPackages{})
			if err == nil {
				err = addPythonReadme(files)
			}
		case "go":
			dir = "go"
			files, err = gogen.GeneratePackage(tool, pkg, nil)
			if err == nil {
				err = writeGoMod(*out, *pulumiSDK)
			}
		default:
			return fmt.Errorf("unknown language %q (nodejs, python, go)", lang)
		}
		if err != nil {
			return fmt.Errorf("generating the %s SDK: %w", lang, err)
		}
		if err := writeTree(filepath.Join(*out, dir), files); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "sdkgen: %s SDK %s: %d files in %s\n", lang, pkg.Version, len(files), filepath.Join(*out, dir))
	}
	return nil
}

func readSchema(p string, stdin io.Reader) ([]byte, error) {
	if p == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(p)
}

// bind checks the schema against Pulumi's metaschema and binds it; every diagnostic is reported.
func bind(raw []byte) (*schema.Package, error) {
	var spec schema.PackageSpec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	if spec.Version == "" {
		return nil, errors.New("the schema has no version (generate it with `python -m kommo_provider.plugin.schema`)")
	}
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema is invalid: %w", diags)
	}
	return pkg, nil
}

// addPythonReadme puts the package's README beside pyproject.toml, which names it as the project's
// readme (pip cannot build the package without it); Pulumi's generator writes it only into the package.
func addPythonReadme(files map[string][]byte) error {
	if _, ok := files["README.md"]; ok {
		return nil
	}
	for name, text := range files {
		if path.Base(name) == "README.md" && strings.Count(name, "/") == 1 {
			files["README.md"] = text
			return nil
		}
	}
	return errors.New("the Python generator wrote no README.md")
}

// noPackages is the schema loader: the kommo schema refers to no other package, so any lookup is an error.
type noPackages struct{}

func (noPackages) fail(name string) error {
	return fmt.Errorf("the schema refers to package %q; this generator supports no references to other packages", name)
}

func (l noPackages) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, l.fail(name)
}

func (l noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, l.fail(d.Name)
}

func (l noPackages) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, l.fail(name)
}

func (l noPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, l.fail(d.Name)
}

// writeTree writes files under root and removes regular files a previous run left there that are
// not generated any more (outside the `keep` folders).
func writeTree(root string, files map[string][]byte) error {
	want := map[string]bool{}
	for name := range files {
		want[filepath.Clean(filepath.FromSlash(name))] = true
	}
	if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p != root && keep[d.Name()] || strings.HasSuffix(d.Name(), ".egg-info") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if !want[rel] {
			return os.Remove(p)
		}
		return nil
	}); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		target := filepath.Join(root, filepath.FromSlash(path.Clean(name)))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, files[name], 0o644); err != nil {
			return err
		}
	}
	return removeEmptyDirs(root)
}

func removeEmptyDirs(root string) error {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if p != root && keep[d.Name()] {
				return filepath.SkipDir
			}
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if entries, err := os.ReadDir(dirs[i]); err == nil && len(entries) == 0 && dirs[i] != root {
			if err := os.Remove(dirs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeGoMod writes the Go SDK's go.mod; `go mod tidy` (scripts/gen-sdk.sh) then adds go.sum and the
// indirect requirements.
func writeGoMod(out, pulumiSDK string) error {
	text := fmt.Sprintf(`module %s

go 1.26

require (
	github.com/blang/semver v3.5.1+incompatible
	github.com/pulumi/pulumi/sdk/v3 %s
)
`, goSDKModule, pulumiSDK)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "go.mod"), []byte(text), 0o644)
}

// bird-gen-sdk writes a package's SDK for one language from its schema, with Pulumi's own code generators: what
// `pulumi package gen-sdk` asks a language host for. Pulumi's Node.js, Python and Go hosts are Go modules the module
// proxy here does not serve, so this calls the generators they call (pkg/v3/codegen/{nodejs,python,go}
// GeneratePackage), with the arguments the CLI has them pass: no overlays and no local dependencies; `--local` as
// `pulumi package gen-sdk --local`; `--package-add` as `pulumi package add` (a local SDK, and the schema's version
// respected, SupportPack, which also gives Go a module of its own).
//
//	pulumi package get-schema PLUGIN > schema.json
//	bird-gen-sdk --language nodejs|python|go [--local | --package-add] schema.json OUT_DIR
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// noLoader answers every reference to another package with an error: a self-contained schema (ours) needs none,
// and binding allows dangling references as the language hosts do.
type noLoader struct{}

func (noLoader) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("bird-gen-sdk loads no other package (asked for %q)", pkg)
}

func (noLoader) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return noLoader{}.LoadPackage(d.Name, d.Version)
}

func (noLoader) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("bird-gen-sdk loads no other package (asked for %q)", pkg)
}

func (noLoader) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return noLoader{}.LoadPackageReference(d.Name, d.Version)
}

func generate(language string, pkg *schema.Package, local bool) (map[string][]byte, error) {
	loader := schema.NewCachedLoader(noLoader{})
	switch language {
	case "nodejs":
		return nodejs.GeneratePackage("pulumi-language-nodejs", pkg, nil, nil, local, loader)
	case "python":
		return python.GeneratePackage("pulumi-language-python", pkg, nil, loader)
	case "go":
		return gogen.GeneratePackage("pulumi-language-go", pkg, nil)
	}
	return nil, fmt.Errorf("--language must be nodejs, python or go, not %q", language)
}

func run(language string, local, packageAdd bool, schemaPath, out string) error {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewCachedLoader(noLoader{}), schema.ValidationOptions{
		AllowDanglingReferences: true,
	})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	if packageAdd {
		// pkg/v3/cmd/pulumi/packages.InstallPackage: "We _always_ want SupportPack turned on for `package add`".
		pkg.SupportPack = true
	}
	files, err := generate(language, pkg, local || packageAdd)
	if err != nil {
		return err
	}
	for name, content := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	language := flag.String("language", "", "nodejs, python or go")
	local := flag.Bool("local", false, "a local SDK, as `pulumi package gen-sdk --local` writes")
	packageAdd := flag.Bool("package-add", false, "the SDK `pulumi package add` writes into sdks/<name>")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: bird-gen-sdk --language nodejs|python|go [--local | --package-add] SCHEMA.json OUT_DIR")
		os.Exit(2)
	}
	if err := run(*language, *local, *packageAdd, flag.Arg(0), flag.Arg(1)); err != nil {
		fmt.Fprintln(os.Stderr, "bird-gen-sdk:", err)
		os.Exit(1)
	}
}

// Command chart-render renders a Helm chart the way `helm template` does, without Helm, a cluster
// or a network: Go text/template with Sprig's functions and Helm's own (include, tpl, required,
// toYaml, fromYaml, fromYamlArray, toJson, fromJson, lookup), the built-in objects .Values,
// .Release, .Chart, .Capabilities, .Files and .Template, values merged like `helm -f a -f b
// --set k=v`, and partials named `_*.tpl`. It is a test tool: the chart tests render every values
// file with it and assert on the parsed objects.
//
//	chart-render [--values FILE]... [--set PATH=VALUE]... [--release-name NAME] [--namespace NS]
//	             [--kube-version v1.33.0] [--api-versions GROUP/VERSION]... [--output json|yaml] CHART_DIR
//
// Output (json, the default): {"manifests":[{"source":"an-ki/templates/x.yaml","object":{...}}],
// "notes":"..."}; every document is parsed as Kubernetes parses it (YAML 1.1 through
// sigs.k8s.io/yaml, a duplicate key is an error). yaml prints the documents like `helm template`.
// A template error (fail, required, a parse error) exits 1 with Helm's message on stderr.
//
// Not covered: subcharts (dependencies are not rendered, their values pass through), values.schema.json
// (the tests validate values against it), .helmignore, `--set` escapes and `--set-string`.
//
// Builds offline from Debian's Go packages (golang-go, golang-github-masterminds-sprig-dev,
// golang-k8s-sigs-yaml-dev): GOPATH=/usr/share/gocode GO111MODULE=off go build.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// multiFlag collects a flag given several times, in order.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles, sets, apiVersions multiFlag
	flag.Var(&valueFiles, "values", "values file, merged over the chart's values.yaml in the order given (repeatable)")
	flag.Var(&sets, "set", "PATH=VALUE set after the values files, e.g. ki.pools[0].replicas=2 (repeatable, comma-separated)")
	flag.Var(&apiVersions, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	releaseName := flag.String("release-name", "an-ki", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	kubeVersion := flag.String("kube-version", "v1.33.0", "Kubernetes version (.Capabilities.KubeVersion)")
	isUpgrade := flag.Bool("is-upgrade", false, "render as an upgrade (.Release.IsUpgrade)")
	output := flag.String("output", "json", "json or yaml")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: chart-render [flags] CHART_DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), options{
		valueFiles: valueFiles, sets: sets, apiVersions: apiVersions, releaseName: *releaseName,
		namespace: *namespace, kubeVersion: *kubeVersion, isUpgrade: *isUpgrade, output: *output,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

type options struct {
	valueFiles, sets, apiVersions []string
	releaseName, namespace        string
	kubeVersion, output           string
	isUpgrade                     bool
}

func run(chartDir string, o options) error {
	c, err := loadChart(chartDir)
	if err != nil {
		return err
	}
	caps, err := newCapabilities(o.kubeVersion, o.apiVersions)
	if err != nil {
		return err
	}
	if err := checkKubeVersion(c.metadata, caps); err != nil {
		return err
	}
	userValues, err := readUserValues(o.valueFiles, o.sets)
	if err != nil {
		return err
	}
	top := map[string]interface{}{
		"Values":       coalesce(userValues, c.values),
		"Release":      releaseObject(o),
		"Chart":        chartObject(c.metadata),
		"Capabilities": caps,
		"Files":        c.files,
		"Subcharts":    map[string]interface{}{},
	}
	rendered, err := renderTemplates(c, top)
	if err != nil {
		return err
	}
	manifests, notes, err := collectManifests(rendered)
	if err != nil {
		return err
	}
	return writeOutput(os.Stdout, o.output, manifests, notes)
}

func releaseObject(o options) map[string]interface{} {
	return map[string]interface{}{
		"Name": o.releaseName, "Namespace": o.namespace, "Service": "Helm", "Revision": 1,
		"IsInstall": !o.isUpgrade, "IsUpgrade": o.isUpgrade,
	}
}

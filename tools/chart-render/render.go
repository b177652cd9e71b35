package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// renderTemplates parses every template into one set and executes each that is not a partial,
// as Helm's engine does; "<no value>" (a missing key) renders as "".
func renderTemplates(c *chart, top map[string]interface{}) (map[string]string, error) {
	t := template.New("gotpl").Option("missingkey=zero")
	t.Funcs(funcMap(t))
	names := sortedTemplateNames(c.templates)
	for _, name := range names {
		if _, err := t.New(name).Parse(c.templates[name]); err != nil {
			return nil, fmt.Errorf("parse error in %s: %w", name, err)
		}
	}
	out := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": name, "BasePath": strings.SplitN(name, "/templates/", 2)[0] + "/templates"}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, vals); err != nil {
			return nil, execError(name, err)
		}
		out[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

// sortedTemplateNames orders templates as Helm parses them: deeper paths first, then by name, reversed.
func sortedTemplateNames(templates map[string]string) []string {
	names := make([]string, 0, len(templates))
	for name := range templates {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.Count(names[i], "/"), strings.Count(names[j], "/")
		if a != b {
			return a > b
		}
		return names[i] > names[j]
	})
	return names
}

var warnRE = regexp.MustCompile(`HELM\[(?s:(.*))\]HELM`)

// execError shows a fail/required message alone with where it came from
// (file:line:column), like Helm's cleanupExecError.
func execError(name string, err error) error {
	msg := err.Error()
	location := name
	if tokens := strings.SplitN(msg, ": ", 3); len(tokens) == 3 && tokens[0] == "template" {
		location = tokens[1]
	}
	if m := warnRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("execution error at (%s): %s", location, m[1])
	}
	return err
}

// manifest is one YAML document of a rendered template.
type manifest struct {
	Source string      `json:"source"`
	Object interface{} `json:"object"`
	text   string
}

var docSeparator = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// collectManifests splits the rendered files into documents and parses each as the API server's
// YAML reader does; NOTES.txt is returned apart.
func collectManifests(rendered map[string]string) ([]manifest, string, error) {
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []manifest
	notes := ""
	for _, name := range names {
		if strings.HasSuffix(name, "/templates/NOTES.txt") {
			notes = rendered[name]
			continue
		}
		for i, doc := range docSeparator.Split(rendered[name], -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := yaml.YAMLToJSONStrict([]byte(doc))
			if err != nil {
				return nil, "", fmt.Errorf("YAML parse error in %s (document %d): %w\n%s", name, i, err, doc)
			}
			var obj interface{}
			if err := json.Unmarshal(j, &obj); err != nil {
				return nil, "", err
			}
			if obj == nil {
				continue // comments only
			}
			m, ok := obj.(map[string]interface{})
			if !ok || m["apiVersion"] == nil || m["kind"] == nil {
				return nil, "", fmt.Errorf("%s (document %d) is not a Kubernetes object (no apiVersion or kind)", name, i)
			}
			out = append(out, manifest{Source: name, Object: obj, text: strings.TrimSpace(doc)})
		}
	}
	return out, notes, nil
}

func writeOutput(w io.Writer, format string, manifests []manifest, notes string) error {
	switch format {
	case "json":
		if manifests == nil {
			manifests = []manifest{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(map[string]interface{}{"manifests": manifests, "notes": notes})
	case "yaml":
		for _, m := range manifests {
			if _, err := fmt.Fprintf(w, "---\n# Source: %s\n%s\n", m.Source, m.text); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("--output %q: json or yaml", format)
	}
}

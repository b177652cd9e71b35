package main

import (
	"path"
	"strings"

	"sigs.k8s.io/yaml"
)

// Files is .Files: the chart's files outside templates/ and charts/, by path relative to the chart.
type Files map[string][]byte

// Get returns a file's text, or "" when there is none (as Helm does).
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's bytes.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Glob returns the files whose path matches a path.Match pattern (Helm's `**` is not supported).
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// AsConfig renders the files as the data of a ConfigMap: base name -> text, as YAML.
func (f Files) AsConfig() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return toYAML(m)
}

// Lines returns a file's lines.
func (f Files) Lines(name string) []string {
	text := f.Get(name)
	if text == "" {
		return []string{}
	}
	return strings.Split(text, "\n")
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

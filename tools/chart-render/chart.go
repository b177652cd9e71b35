package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// chart is a chart directory as Helm's loader sees it.
type chart struct {
	metadata  map[string]interface{} // Chart.yaml
	values    map[string]interface{} // values.yaml, the defaults
	templates map[string]string      // "<chart name>/templates/x.yaml" -> text
	files     Files                  // every other file, for .Files
}

func loadChart(dir string) (*chart, error) {
	c := &chart{templates: map[string]string{}, files: Files{}}
	meta, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(meta, &c.metadata); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	name, _ := c.metadata["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("Chart.yaml names no chart")
	}
	if c.values, err = readValuesFile(filepath.Join(dir, "values.yaml")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if c.values == nil {
		c.values = map[string]interface{}{}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.templates[path.Join(name, rel)] = string(data)
		case strings.HasPrefix(rel, "charts/"), rel == "Chart.yaml", rel == "Chart.lock", rel == "values.yaml", rel == "values.schema.json":
			// Subcharts and the files Helm keeps apart from .Files.
		default:
			c.files[rel] = data
		}
		return nil
	})
	return c, err
}

// chartObject is .Chart: Chart.yaml with Helm's field names (name -> Name, appVersion -> AppVersion).
func chartObject(meta map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range meta {
		switch k {
		case "apiVersion":
			out["APIVersion"] = v
		default:
			r := []rune(k)
			r[0] = unicode.ToUpper(r[0])
			out[string(r)] = v
		}
	}
	for _, k := range []string{"Name", "Version", "AppVersion", "Description", "KubeVersion", "Type"} {
		if _, ok := out[k]; !ok {
			out[k] = ""
		}
	}
	return out
}

package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// readValuesFile parses a values file as Helm does: YAML through JSON, so every number is a float64.
func readValuesFile(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// readUserValues merges the -f files in order (maps key by key, the rest replaced), then the --set assignments.
func readUserValues(files, sets []string) (map[string]interface{}, error) {
	out := map[string]interface{}{}
	for _, f := range files {
		m, err := readValuesFile(f)
		if err != nil {
			return nil, err
		}
		out = mergeMaps(out, m)
	}
	for _, s := range sets {
		for _, assignment := range strings.Split(s, ",") {
			if err := applySet(out, assignment); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]interface{}); ok {
			if am, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// coalesce lays the user's values over the chart's defaults; a user null removes the default.
func coalesce(user, defaults map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		um, uok := v.(map[string]interface{})
		dm, dok := out[k].(map[string]interface{})
		if uok && dok {
			out[k] = coalesce(um, dm)
		} else {
			out[k] = v
		}
	}
	return out
}

var (
	segmentRE = regexp.MustCompile(`^([^\[\]]+)((?:\[\d+\])*)$`)
	indexRE   = regexp.MustCompile(`\d+`)
)

// applySet applies one `a.b[0].c=value` of --set, typing the value as Helm's strvals does.
func applySet(values map[string]interface{}, assignment string) error {
	eq := strings.Index(assignment, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: want PATH=VALUE", assignment)
	}
	type step struct {
		key   string
		index int // -1: a map key
	}
	var steps []step
	for _, seg := range strings.Split(assignment[:eq], ".") {
		m := segmentRE.FindStringSubmatch(seg)
		if m == nil {
			return fmt.Errorf("--set %q: bad path segment %q", assignment, seg)
		}
		steps = append(steps, step{key: m[1], index: -1})
		for _, idx := range indexRE.FindAllString(m[2], -1) {
			n, _ := strconv.Atoi(idx)
			steps = append(steps, step{index: n})
		}
	}
	value := typedValue(assignment[eq+1:])
	// Walk the path, creating maps and growing lists as needed; the last step stores the value.
	var assign func(node interface{}, i int) (interface{}, error)
	assign = func(node interface{}, i int) (interface{}, error) {
		if i == len(steps) {
			return value, nil
		}
		s := steps[i]
		if s.index < 0 {
			m, ok := node.(map[string]interface{})
			if !ok {
				m = map[string]interface{}{}
			}
			child, err := assign(m[s.key], i+1)
			if err != nil {
				return nil, err
			}
			m[s.key] = child
			return m, nil
		}
		list, _ := node.([]interface{})
		for len(list) <= s.index {
			list = append(list, nil)
		}
		child, err := assign(list[s.index], i+1)
		if err != nil {
			return nil, err
		}
		list[s.index] = child
		return list, nil
	}
	_, err := assign(values, 0)
	return err
}

func typedValue(v string) interface{} {
	switch {
	case strings.EqualFold(v, "true"):
		return true
	case strings.EqualFold(v, "false"):
		return false
	case strings.EqualFold(v, "null"):
		return nil
	case v == "0":
		return int64(0)
	}
	if len(v) > 0 && v[0] != '0' {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return v
}

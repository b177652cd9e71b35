package main

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver"
)

// Capabilities is .Capabilities, with Helm's field and method names.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version string // v1.33.0
	Major   string
	Minor   string
}

func (k KubeVersion) String() string     { return k.Version }
func (k KubeVersion) GitVersion() string { return k.Version }

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has says whether a group/version (or group/version/Kind) is served.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// builtinAPIVersions are the GA API groups every supported cluster serves.
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
	"autoscaling/v1", "autoscaling/v2", "scheduling.k8s.io/v1", "node.k8s.io/v1", "storage.k8s.io/v1",
	"coordination.k8s.io/v1", "discovery.k8s.io/v1", "apiextensions.k8s.io/v1", "admissionregistration.k8s.io/v1",
}

func newCapabilities(kubeVersion string, extra []string) (*Capabilities, error) {
	v, err := semver.NewVersion(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("--kube-version %q: %w", kubeVersion, err)
	}
	return &Capabilities{
		KubeVersion: KubeVersion{Version: "v" + v.String(), Major: fmt.Sprint(v.Major()), Minor: fmt.Sprint(v.Minor())},
		APIVersions: append(append(VersionSet{}, builtinAPIVersions...), extra...),
		HelmVersion: map[string]string{"Version": "v3.16.0"},
	}, nil
}

// checkKubeVersion refuses a cluster version outside Chart.yaml's kubeVersion, as Helm does.
func checkKubeVersion(meta map[string]interface{}, caps *Capabilities) error {
	constraint, _ := meta["kubeVersion"].(string)
	if strings.TrimSpace(constraint) == "" {
		return nil
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return fmt.Errorf("Chart.yaml kubeVersion %q: %w", constraint, err)
	}
	v, _ := semver.NewVersion(caps.KubeVersion.Version)
	if !c.Check(v) {
		return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", constraint, caps.KubeVersion.Version)
	}
	return nil
}

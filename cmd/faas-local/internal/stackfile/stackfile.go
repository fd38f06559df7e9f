// Package stackfile reads an OpenFaaS stack.yml the way faas-cli does (with
// go-sdk's stack package, environment variables substituted) and resolves
// what faas-local needs from it: every function's handler, template,
// environment, secrets, labels and the stack's copy paths.
package stackfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/openfaas/go-sdk/stack"
	"gopkg.in/yaml.v3"
)

// Stack is a parsed stack file.
type Stack struct {
	// File is the absolute path of the stack file.
	File string
	// Dir is the folder holding the stack file: handler, template and copy
	// paths are relative to it.
	Dir string
	// CopyPaths are the stack's configuration.copy paths, as written.
	CopyPaths []string
	// Functions are the stack's functions, sorted by name.
	Functions []Function
}

// Function is one function of the stack.
type Function struct {
	// Name is the function's name, its key under functions:.
	Name string
	// Lang is the template's name (the folder under template/).
	Lang string
	// Handler is the handler folder, relative to the stack's folder.
	Handler string
	// Image is the image name faas-cli would build.
	Image string
	// FProcess is the process the watchdog would run, when the stack sets it.
	FProcess string
	// Environment is the function's environment: its environment_file
	// entries overlaid with its environment map.
	Environment map[string]string
	// Secrets are the names of the secrets the function reads.
	Secrets []string
	// Labels are the function's labels (never nil).
	Labels map[string]string
	// Annotations are the function's annotations (never nil).
	Annotations map[string]string
	// MinReplicas is the com.openfaas.scale.min label, 1 when absent.
	MinReplicas int
}

// Load parses the stack file at path.
func Load(path string) (*Stack, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	services, err := stack.ParseYAMLFile(abs, "", "", true)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s := &Stack{File: abs, Dir: filepath.Dir(abs), CopyPaths: services.StackConfiguration.CopyExtraPaths}
	for name, f := range services.Functions {
		fn := Function{
			Name:        name,
			Lang:        f.Language,
			Handler:     f.Handler,
			Image:       f.Image,
			FProcess:    f.FProcess,
			Secrets:     f.Secrets,
			Environment: map[string]string{},
			Labels:      map[string]string{},
			Annotations: map[string]string{},
			MinReplicas: 1,
		}
		if fn.Lang == "" || fn.Handler == "" {
			return nil, fmt.Errorf("%s: function %s needs both lang and handler", path, name)
		}
		if fn.Lang == "dockerfile" {
			return nil, fmt.Errorf("%s: function %s uses lang dockerfile, which faas-local cannot run without Docker", path, name)
		}
		for _, file := range f.EnvironmentFile {
			env, err := readEnvironmentFile(filepath.Join(s.Dir, file))
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", name, err)
			}
			for k, v := range env {
				fn.Environment[k] = v
			}
		}
		for k, v := range f.Environment {
			fn.Environment[k] = v
		}
		if f.Labels != nil {
			for k, v := range *f.Labels {
				fn.Labels[k] = v
			}
		}
		if f.Annotations != nil {
			for k, v := range *f.Annotations {
				fn.Annotations[k] = v
			}
		}
		if v, ok := fn.Labels["com.openfaas.scale.min"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("function %s: label com.openfaas.scale.min %q is not a whole number", name, v)
			}
			fn.MinReplicas = n
		}
		s.Functions = append(s.Functions, fn)
	}
	sort.Slice(s.Functions, func(i, j int) bool { return s.Functions[i].Name < s.Functions[j].Name })
	return s, nil
}

// Function returns the function called name.
func (s *Stack) Function(name string) (Function, bool) {
	for _, f := range s.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// readEnvironmentFile reads a faas-cli environment_file: YAML with an
// environment: map.
func readEnvironmentFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("environment_file: %w", err)
	}
	var file stack.EnvironmentFile
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("environment_file %s: %w", path, err)
	}
	return file.Environment, nil
}

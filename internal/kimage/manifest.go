package kimage

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ManifestFormat identifies version 1 of the build manifest. A reader
// refuses other formats rather than guessing.
const ManifestFormat = "aster.build-manifest/v1"

// File names in a build output directory.
const (
	KernelFile   = "kernel.elf"
	ManifestFile = "manifest.json"
)

// Manifest describes one build: its inputs (enough to rebuild it) and its
// outputs with their hashes. docs/build-run.md documents every field.
type Manifest struct {
	Format    string   `json:"format"`
	Tool      Tool     `json:"tool"`
	GoVersion string   `json:"go_version"`
	Module    string   `json:"module"`
	Git       *GitInfo `json:"git"` // nil when the source is not a git checkout
	Package   string   `json:"package"`
	LDFlags   string   `json:"ldflags"`
	// Tags are the build tags (absent: none). Optional, so version 1
	// readers that predate it still accept the manifest.
	Tags []string `json:"tags,omitempty"`
	Env  []string `json:"env"`
	// Cmdline is the default kernel command line; astctl run appends its
	// own --append to it.
	Cmdline string   `json:"cmdline"`
	Image   Layout   `json:"image"`
	Outputs []Output `json:"outputs"`
	// Initramfs describes DIR/initramfs.cpio.gz when the build made one
	// (astctl build --include); absent otherwise. Optional, so version 1
	// readers that predate it still accept the manifest.
	Initramfs *Initramfs `json:"initramfs,omitempty"`
	// Userland records the programs astctl build compiled for the
	// initramfs (astctl build --userland uroot); absent otherwise.
	// Optional, as Initramfs.
	Userland *Userland `json:"userland,omitempty"`
}

// Tool names the program that made the build.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// GitInfo is the state of the source checkout.
type GitInfo struct {
	Commit   string `json:"commit"`   // full hash of HEAD
	Describe string `json:"describe"` // git describe --tags --always --dirty
	Dirty    bool   `json:"dirty"`    // tracked files differ from HEAD
}

// Output is one file of the build. SHA-384 is there because TDX and
// SEV-SNP measurements are SHA-384 based.
type Output struct {
	Name   string `json:"name"` // relative to the output directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	SHA384 string `json:"sha384"`
}

// Output returns the output called name, or nil.
func (m *Manifest) Output(name string) *Output {
	for i := range m.Outputs {
		if m.Outputs[i].Name == name {
			return &m.Outputs[i]
		}
	}
	return nil
}

// describeFile returns name's size and hashes.
func describeFile(dir, name string) (Output, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return Output{}, err
	}
	defer f.Close()
	h256, h384 := sha256.New(), sha512.New384()
	n, err := io.Copy(io.MultiWriter(h256, h384), f)
	if err != nil {
		return Output{}, err
	}
	return Output{
		Name:   name,
		Size:   n,
		SHA256: hex.EncodeToString(h256.Sum(nil)),
		SHA384: hex.EncodeToString(h384.Sum(nil)),
	}, nil
}

// WriteManifest writes m as dir/manifest.json.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// ReadManifest reads dir/manifest.json. A missing file gives an error
// satisfying errors.Is(err, fs.ErrNotExist).
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", filepath.Join(dir, ManifestFile), m.Format, ManifestFormat)
	}
	return &m, nil
}

// VerifyOutputs checks that the files in dir still match the manifest's
// sizes and hashes.
func (m *Manifest) VerifyOutputs(dir string) error {
	var errs []error
	outputs := m.Outputs
	if m.Initramfs != nil {
		outputs = append(outputs[:len(outputs):len(outputs)], m.Initramfs.output())
	}
	for _, want := range outputs {
		got, err := describeFile(dir, want.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if got != want {
			errs = append(errs, fmt.Errorf("%s changed since it was built (sha256 %s, manifest says %s)", want.Name, got.SHA256, want.SHA256))
		}
	}
	return errors.Join(errs...)
}

package app

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
)

// variablesRead lists every environment variable LoadConfig reads, as
// envconfig names them.
func variablesRead(t *testing.T) map[string]bool {
	t.Helper()
	var cfg Config
	var b strings.Builder
	for _, src := range cfg.envSources() {
		if err := envconfig.Usagef(src.prefix, src.spec, &b, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
			t.Fatal(err)
		}
	}
	read := map[string]bool{}
	for _, k := range strings.Fields(b.String()) {
		read[k] = true
	}
	if len(read) < 20 {
		t.Fatalf("only %d variables found: %v", len(read), read)
	}
	return read
}

// TestDeployFilesSetOnlyVariablesTheBridgeReads: a misspelt variable in a
// deployment file is silently ignored by the bridge (a token file never
// read, a setting never applied), so every CLM_ name in the files an
// operator copies must be one the bridge reads.
func TestDeployFilesSetOnlyVariablesTheBridgeReads(t *testing.T) {
	read := variablesRead(t)
	root := filepath.Join("..", "..")
	name := regexp.MustCompile(`CLM_[A-Z0-9_]*[A-Z0-9]`)
	for _, file := range []string{"deploy/docker-compose.yml", "deploy/cluster/docker-compose.yml", "deploy/clm-bridge.service", "Dockerfile", "config.example.env"} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Fatal(err)
			}
			found := name.FindAllString(string(b), -1)
			if len(found) == 0 {
				t.Fatalf("%s names no CLM_ variable", file)
			}
			for _, v := range found {
				if !read[v] {
					t.Errorf("%s sets or names %s, which the bridge does not read", file, v)
				}
			}
		})
	}
}

// TestConfigExampleDocumentsEveryVariable: config.example.env is the
// reference the README points to.
func TestConfigExampleDocumentsEveryVariable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.env"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for v := range variablesRead(t) {
		if !regexp.MustCompile(`(?m)^#?\s*` + v + `=`).Match(b) {
			missing = append(missing, v)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("config.example.env does not document %v", missing)
	}
}

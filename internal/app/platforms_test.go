package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"

	"github.com/clmbridge/clmbridge/platform"
)

// tokenVar returns the name of p's token variable, CLM_<PLATFORM>_TOKEN,
// and whether p reads it and its _FILE (the console has no token).
func tokenVar(t *testing.T, p platform.Platform) (string, bool) {
	t.Helper()
	var b strings.Builder
	if err := envconfig.Usagef("", p.NewConfig(), &b, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	keys := strings.Fields(b.String())
	name := EnvPrefix + "_" + strings.ToUpper(p.Name()) + "_TOKEN"
	return name, slices.Contains(keys, name) && slices.Contains(keys, name+"_FILE")
}

// TestEveryPlatformTakesItsTokenFromTheVariableOrItsFileNeverBoth: the one
// token rule (platform.ReadSecret), for every platform that has a token:
// the variable alone or the file alone start the platform; both refuse to
// start, naming the variable and not the token; the file's token is
// redacted from the doctor's report.
func TestEveryPlatformTakesItsTokenFromTheVariableOrItsFileNeverBoth(t *testing.T) {
	const token = "123456:AAtheTokenOfThisTestQwerty"
	tested := 0
	for _, p := range platforms() {
		name, ok := tokenVar(t, p)
		if !ok {
			continue
		}
		tested++
		file := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			how      string
			env      map[string]string
			refusing bool
		}{
			{"the variable", map[string]string{name: token}, false},
			{"the file", map[string]string{name + "_FILE": file}, false},
			{"both", map[string]string{name: token, name + "_FILE": file}, true},
		} {
			t.Run(p.Name()+" from "+tt.how, func(t *testing.T) {
				clearEnv(t)
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				cfg, err := LoadConfig()
				if tt.refusing {
					if err == nil || !strings.Contains(err.Error(), "set "+name+" or "+name+"_FILE, not both") {
						t.Fatalf("LoadConfig with %s and its _FILE: %v", name, err)
					}
					if strings.Contains(err.Error(), token) {
						t.Fatalf("the error holds the token: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := adapterNames(cfg); !slices.Equal(got, []string{p.Name()}) {
					t.Fatalf("serving %v, want only %s", got, p.Name())
				}
				if !slices.Contains(configSecrets(cfg), token) {
					t.Errorf("the token from %s is not among the secrets the doctor's report is cleaned of", tt.how)
				}
			})
		}
	}
	if tested < 2 {
		t.Fatalf("only %d platforms have a token variable and its _FILE", tested)
	}
}

// TestEveryPlatformJudgesItsOwnAdminIDs: CLM_ADMINS entries are checked
// by the platform they name, and an unknown platform's entry lists the
// platforms there are.
func TestEveryPlatformJudgesItsOwnAdminIDs(t *testing.T) {
	ids := []string{"123456789", "80351110224678912", "alice", "@alice", "-100123", "al ice", "alice#1234"}
	accepted := map[string][]string{}
	for _, p := range platforms() {
		for _, id := range ids {
			_, err := parseAdmins(p.Name() + ":" + id)
			if (err == nil) != (p.CheckUserID(id) == nil) {
				t.Errorf("CLM_ADMINS=%s:%s: %v, but the platform says %v", p.Name(), id, err, p.CheckUserID(id))
			}
			if err == nil {
				accepted[p.Name()] = append(accepted[p.Name()], id)
			}
		}
	}
	// The platforms' rules differ: a console name is no Telegram id.
	if slices.Contains(accepted["telegram"], "alice") || !slices.Contains(accepted["console"], "alice") ||
		!slices.Contains(accepted["telegram"], "123456789") || slices.Contains(accepted["discord"], "@alice") {
		t.Errorf("accepted %v", accepted)
	}
	_, err := parseAdmins("slack:U123")
	for _, p := range platforms() {
		if err == nil || !strings.Contains(err.Error(), p.Name()) {
			t.Errorf("an unknown platform's entry: %v, which does not name %s", err, p.Name())
		}
	}
}

// TestTheDoctorAsksEveryEnabledPlatform: bridge doctor and /clm doctor
// run each enabled platform's own check, under its name, in the order of
// the platforms; the console, which has none, adds none.
func TestTheDoctorAsksEveryEnabledPlatform(t *testing.T) {
	clearEnv(t)
	var withDoctor []string
	for _, p := range platforms() {
		name, ok := tokenVar(t, p)
		if !ok {
			continue
		}
		t.Setenv(name, "123456:AAtheTokenOfThisTestQwerty")
		if _, ok := p.NewConfig().(platform.Doctor); ok {
			withDoctor = append(withDoctor, p.Name())
		}
	}
	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	var areas []string
	for _, c := range doctorChecksFor(cfg) {
		areas = append(areas, c.Area)
	}
	want := append([]string{"config", "store"}, withDoctor...)
	if !slices.Equal(areas, want) || len(withDoctor) < 2 {
		t.Fatalf("the doctor checks %v, want %v", areas, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no platform is asked for real: each says it cannot reach its API
	for _, c := range doctorChecksFor(cfg)[2:] {
		fs := c.Run(ctx)
		if len(fs) == 0 {
			t.Fatalf("%s's check found nothing", c.Area)
		}
		says := ""
		for _, f := range fs {
			says += f.What + "\n"
		}
		if !strings.Contains(says, "token is in the environment") {
			t.Errorf("%s's check does not say its token is in the environment:\n%s", c.Area, says)
		}
	}
}

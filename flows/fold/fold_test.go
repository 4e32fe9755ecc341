package fold

import "testing"

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"  Pengaduan! ":         "pengaduan",
		"/Lapor":                "lapor",
		"Info   Wisata\tBatang": "info wisata batang",
		"“Bahasa Indonesia”":    "bahasa indonesia",
		"e-KTP":                 "e-ktp",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuns(t *testing.T) {
	for in, want := range map[string]string{
		"maaaaf": "maaf", "siiip": "siip", "maaf": "maaf", "2000": "2000", "wkwkwk": "wkwkwk", "": "",
	} {
		if got := Runs(in); got != want {
			t.Errorf("Runs(%q) = %q, want %q", in, got, want)
		}
	}
}

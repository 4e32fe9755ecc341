package flows

import "strings"

// looksEnglish reports whether text is clearly English: at least two common English
// words and no common Indonesian one. It only decides whether to offer English, so
// it errs on the side of silence.
func looksEnglish(text string) bool {
	en, id := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	}) {
		switch {
		case isEnglishWord(w):
			en++
		case isIndonesianWord(w):
			id++
		}
	}
	return en >= 2 && id == 0
}

func isEnglishWord(w string) bool {
	switch w {
	case "hello", "hi", "hey", "good", "morning", "afternoon", "evening", "please", "where", "what",
		"how", "when", "which", "who", "can", "could", "would", "i", "i'm", "is", "are", "the", "a",
		"an", "to", "want", "need", "looking", "for", "beach", "hotel", "help", "thanks", "thank",
		"you", "my", "do", "does", "there", "any", "near", "nearby", "stay", "visit", "eat", "food",
		"tourist", "english", "place", "places", "best", "recommend", "get", "go", "from", "way",
		"of", "and", "with", "this", "that", "it":
		return true
	}
	return false
}

func isIndonesianWord(w string) bool {
	switch w {
	case "apa", "bagaimana", "gimana", "gmn", "saya", "aku", "mau", "ingin", "di", "ke", "yang",
		"yg", "dan", "ini", "itu", "ada", "bisa", "tidak", "ga", "gak", "nggak", "halo", "selamat",
		"pagi", "siang", "sore", "malam", "terima", "kasih", "tolong", "mohon", "ktp", "kk", "akta",
		"urus", "bikin", "dimana", "pak", "bu", "min", "kak", "berapa", "kapan", "buat", "cara",
		"syarat", "dong", "ya", "nya":
		return true
	}
	return false
}

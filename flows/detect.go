package flows

import (
	"strings"
	"unicode"
)

// Which language a message is written in. Two questions are asked of a message:
//
//   - looksEnglish, on first contact: is it English at all ("Hello there", "where is
//     the beach")? Then the greeting comes in English.
//   - sentenceLang, later: is it a whole sentence in one language ("The road near the
//     beach has big holes", "saya mau melaporkan jalan yang rusak parah")? Then that
//     message is answered in its language, whatever the conversation's.
//
// Both count words a person of one language writes and one of the other does not:
// function words, question words, the verbs of a request, chat abbreviations. Words
// both write (ok, hotel, info, tips, online, ktp, bpjs), names, numbers and ticket
// numbers count for neither. A Javanese word or a word of the other language makes
// the message mixed, and a mixed message belongs to no language. Both err on the side
// of silence: a wrong switch of language is worse than answering in the language the
// person already reads.

// langCount is what the words of a message say about its language.
type langCount struct {
	en, id, jv int // words only English, only Indonesian, Javanese
	formula    int // of en and id: words of greetings, thanks and courtesy
	words      int // every word, names and shared words included; numbers not
}

// countLang reads the words of text. A piece of text with a digit in it (a number, a
// ticket number, "200rb", "syarat2") is no word.
func countLang(text string) langCount {
	var n langCount
	text = strings.NewReplacer("’", "'", "‘", "'").Replace(strings.ToLower(text))
	for _, field := range strings.Fields(text) {
		if strings.ContainsFunc(field, unicode.IsDigit) {
			continue
		}
		for _, w := range strings.FieldsFunc(field, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			w = strings.Trim(w, "'")
			if w == "" || len([]rune(w)) == 1 && w != "a" && w != "i" {
				continue // "e" of e-ktp, a stray letter
			}
			n.words++
			if formulaWords[w] && !neutralWords[w] {
				n.formula++
			}
			switch {
			case neutralWords[w]:
			case englishWords[w]:
				n.en++
			case indonesianWords[w]:
				n.id++
			case javaneseWords[w]:
				n.jv++
			case indonesianMorph(w):
				n.id++
			}
		}
	}
	return n
}

// looksEnglish reports whether text is clearly English: at least two words only
// English writes and none of Indonesian or Javanese. It only decides whether a first
// message is greeted in English (with the offer of Indonesian), so it errs on the side
// of silence.
func looksEnglish(text string) bool {
	n := countLang(text)
	return n.en >= 2 && n.id == 0 && n.jv == 0
}

// sentenceLang returns "en" or "id" when text is a whole sentence in that language,
// else "": at least four words, at least three and at least half of them words only
// that language writes, two of them more than courtesy, and not one word of another
// language. "ok", "halo", "thank you very much", "selamat pagi bapak ibu", a number,
// a ticket number, a menu label of three words and slang mixed with English are in no
// language.
func sentenceLang(text string) string {
	n := countLang(text)
	if n.words < 4 || n.jv > 0 || n.en+n.id-n.formula < 2 {
		return ""
	}
	switch {
	case n.id == 0 && n.en >= 3 && 2*n.en >= n.words:
		return "en"
	case n.en == 0 && n.id >= 3 && 2*n.id >= n.words:
		return "id"
	}
	return ""
}

// isEnglishSentence reports whether text is a whole sentence in English.
func isEnglishSentence(text string) bool { return sentenceLang(text) == "en" }

// isIndonesianSentence reports whether text is a whole sentence in Indonesian.
func isIndonesianSentence(text string) bool { return sentenceLang(text) == "id" }

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// neutralWords are written in both languages' chats: they say nothing of the language.
var neutralWords = wordSet(`ok oke okay okey hotel hotels info data status menu bot admin online offline
	tips stop no cancel update upload download email wifi internet bank atm mall taxi grab gojek ojol
	promo link video foto chat wa whatsapp instagram tiktok live streaming top up free ktp ektp kk kia
	bpjs pbb sim skck sktm nik npwp pdam pln pju rt rw id jkn kis kip pkh umkm nib oss mpp igd rsud
	dukcapil disdukcapil batang bro sis guys wkwk wkwkwk haha hehe hihi lol btw otw`)

// englishWords are written in English and not in Indonesian chats.
var englishWords = wordSet(`a an the i i'm i'd i've i'll me my mine myself you you're your yours we our us
	they their them he she his her it it's its this that these those there here what what's where
	where's when which who who's whom why how is are was were be been being am do does did done don't
	doesn't didn't can can't cannot could would should will won't shall may might must have has had
	not and or but if so because than then also too very just only still again already of to for in
	on at by with from into about after before near nearby nearest far around without between over
	under any some every all each other another more most much many few lot lots get got go going
	goes went come want wants need needs like please thank thanks thx hello hey hi good nice
	best better great bad cheap expensive open closed close new old big small long far way ways
	place places thing things time day days week today tomorrow yesterday tonight morning afternoon
	evening night help find tell give make take see look looking know think say said talk speak
	call send report complain complaint complaints check track stay visit eat food drink buy pay
	price cost fee ticket tickets beach beaches road roads street light lights broken damaged lost
	rubbish garbage trash water power outage hospital office card passport visa insurance health
	weather train bus car scooter motorbike rent drive driving license person people someone human
	real english indonesian tourist tourism travel trip tip attraction attractions waterfall
	waterfalls tea plantation factory tour park mountain town city village area sick doctor
	emergency number phone police fire ambulance first family child children birth certificate
	married marriage subscribe unsubscribe announcements alerts daily messages delete erase remove
	data's useless worth happened should correct sure yes yeah nope sorry exchange money flights joke
	close worth sign signs up sending keep switch`)

// indonesianWords are written in Indonesian chats and not in English ones: function
// words, question words, requests and the abbreviations of chat.
var indonesianWords = wordSet(`yang yg di ke dari dr dan ini itu ada apa apakah bagaimana gimana gmn gmna bgmn
	saya sy aku ku kamu anda mau ingin pengen pgn bisa tidak tdk ga gak gk nggak ngga enggak engga ndak
	sudah udah udh sdh belum blm mana dimana dmn kemana berapa brp kapan kpn cara caranya syarat
	syaratnya bikin buat urus ngurus ngurusnya lapor laporan melaporkan pengaduan aduan mengadu ngadu
	jalan rusak mati min kak pak bu bapak ibu ya dong aja saja sih nih deh kok tolong mohon terima kasih
	makasih selamat pagi siang sore malam halo buka tutup lama baru hilang ilang kantor desa kecamatan
	kelurahan rumah depan sampah air lampu listrik wisata langganan berhenti hapus pakai pake bahasa
	cek lihat liat untuk utk dengan dgn kalau kalo tapi tp juga sama sm lagi lg masih msh harus perlu
	bayar biaya gratis pantai bagus tempat dekat deket sini situ anak orang org kartu keluarga akta
	akte kelahiran kematian nikah menikah pindah terus trs karena krn jadi jd atau bukan punya minta
	kena pas waktu hari bulan tahun thn jam besok kemarin sekarang skrg nomor telepon telpon tanya
	bantu bantuan masuk keluar daftar cari beli harga murah mahal enak khas terdekat kami kita mereka
	dia nya para oleh pada dalam luar atas bawah akan sedang banyak sangat banget bgt baik benar salah
	semua setiap tiap sudah boleh gimana apa aja kok tiket masuk penginapan makanan kuliner rekomendasi
	tentang kenapa mengapa siapa biar supaya agar sampai sejak seminggu dua tiga satu ikut tinggal
	dapat dapet dapat kirim pesan petugas pelayanan layanan surat keterangan kependudukan pajak
	kendaraan motor mobil sekolah pendaftaran bantu cuaca hujan panas tagihan pasang besar kecil
	tolong berlubang padam numpuk menumpuk diangkut diambil diproses ditindaklanjuti pemda pemkab
	kabupaten dinas puskesmas sakit rumah mengurus membuat pembuatan persyaratan prosedur info nya
	sudah kah lah pun gitu gini begitu begini mas mbak om kerja jadwal alamat lewat naik turun sewa nama
	lahir tanah umur warga miskin pemerintah negeri dunia terbaik tertinggi sekali kecewa membantu
	usaha izin ijin resmi kereta tarif surat ganti ubah benar baru lalu tadi nanti saat ketika bila
	jika sebelum sesudah setelah antara tanpa lebih kurang paling cukup hanya cuma belum pernah sering
	kadang selalu mungkin harus wajib bayarnya syarat berlaku aktif kotor bersih rusak lambat cepat
	jauh tinggi rendah gelap terang hujan banjir longsor gempa kebakaran tetangga kampung kota jalannya
	bagaimanakah dimanakah berapakah apa-apa sesuatu seseorang siapapun apapun kak`)

// indonesianMorph reports whether an unknown word is built the Indonesian way: with
// -nya, -kan, -lah or -kah, or pe-…-an (pelayanannya, dikirimkan, pendaftaran).
// A wrong guess only makes a message mixed, so silent.
func indonesianMorph(w string) bool {
	n := len(w)
	switch {
	case n >= 6 && (strings.HasSuffix(w, "nya") || strings.HasSuffix(w, "kan")):
		return true
	case n >= 7 && (strings.HasSuffix(w, "lah") || strings.HasSuffix(w, "kah")):
		return true
	case n >= 9 && strings.HasPrefix(w, "pe") && strings.HasSuffix(w, "an"):
		return true
	}
	return false
}

// formulaWords are the words of greetings, thanks and courtesy, which people write in
// either language whatever language they speak: they do not make a sentence.
var formulaWords = wordSet(`hello hi hey good morning afternoon evening night thank thanks thx you very much so
	lot all everyone sir madam please sorry bye see later welcome dear selamat pagi siang sore malam
	terima kasih makasih banyak bapak ibu pak bu semua kak min halo hai permisi maaf mohon mas mbak om`)

// javaneseWords are Javanese words people mix into Indonesian.
var javaneseWords = wordSet(`piye carane gawe ngendi endi opo sing nggih mboten sampun matur nuwun kulo
	aku iki kuwi wis durung ora ono neng nang karo monggo sampeyan panjenengan pinten pundi wonten
	badhe ngapunten sugeng enjing`)

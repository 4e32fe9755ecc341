package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot/telegram/telegramtest"
)

// The whole service on the Telegram Bot API emulator: a citizen on Telegram asks for a
// person, the request is announced in the staff group, and staff answer by replying
// to the bot's messages there.
func TestStaffAnswerACitizenOnTelegramByReplyingInTheStaffGroup(t *testing.T) {
	api := telegramtest.Start(t)
	const token = "7000000003:E2E-layan_handoff"
	const group = -100500
	vars := map[string]string{
		"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "OFFICE_HOURS": "always",
		"TELEGRAM_TOKEN": token, "TELEGRAM_API_ENDPOINT": api.Endpoint(), "TELEGRAM_SEND_LIMITS": "off",
		"STAFF_NOTIFY": "telegram:-100500", "STAFF_IDS": "telegram:5001,telegram:5002",
	}
	stop := startServe(t, vars)
	defer func() {
		if logs := stop(); t.Failed() {
			t.Logf("service output:\n%s", logs)
		}
	}()

	siti := &telegramtest.Person{API: api.URL, Token: token, ID: 7001, Name: "Siti"}
	budi := &telegramtest.Person{API: api.URL, Token: token, ID: 5001, Name: "Budi", Group: group}
	sari := budi.Member(5002, "Sari") // staff too
	tamu := budi.Member(5003, "Tamu") // in the group, not staff

	siti.Command(t, "/start")
	siti.Expect(t, "the menu", telegramtest.HasButton("human"))
	siti.Say(t, map[string]any{"text": "saya mau bicara dengan petugas"})
	siti.Expect(t, "a place in the queue", telegramtest.HasText("Anda nomor 1 dalam antrean"))

	got := budi.Expect(t, "the request announced in the staff group", telegramtest.HasText("Warga meminta bicara dengan petugas"))
	announced := got[len(got)-1]
	m := regexp.MustCompile(`^Warga meminta bicara dengan petugas: ([0-9a-z]+) \(telegram`).FindStringSubmatch(announced.Text)
	if !strings.Contains(announced.Text, "Balas pesan ini") || m == nil {
		t.Fatalf("the announcement %q does not say how to answer or names no conversation", announced.Text)
	}
	id := m[1]

	// Nobody holds it: Budi's reply takes it and reaches Siti.
	budi.Reply(t, announced, "Selamat siang, Bu. Ada yang bisa kami bantu?")
	budi.Expect(t, "the confirmation", telegramtest.HasText("Terkirim ke "+id))
	got = siti.Expect(t, "the staff reply", telegramtest.HasText("Selamat siang, Bu. Ada yang bisa kami bantu?"))
	if !telegramtest.ContainsText(got, "Seorang petugas sudah bergabung") {
		t.Errorf("Siti was not told that a member of staff joined: %q", telegramtest.Texts(got))
	}
	if last := got[len(got)-1].Text; last != "Petugas: Selamat siang, Bu. Ada yang bisa kami bantu?" {
		t.Errorf("Siti got %q, want the reply as the staff member's", last)
	}

	// What Siti says is passed on to the group; Budi answers it by replying to it.
	siti.Say(t, map[string]any{"text": "KTP saya hilang, bagaimana mengurusnya?"})
	siti.Expect(t, "the note that it was passed on", telegramtest.HasText("diteruskan ke petugas"))
	got = budi.Expect(t, "Siti's message in the group", telegramtest.HasText("KTP saya hilang"))
	passed := got[len(got)-1]

	// Sari may not answer a conversation Budi holds: refused kindly, not passed on.
	sari.Reply(t, passed, "Datang saja ke kecamatan.")
	sari.Expect(t, "the kind refusal", telegramtest.HasText("sedang dipegang petugas lain"))
	// Someone in the group who is not staff is not passed on either.
	tamu.Reply(t, announced, "Saya juga mau tanya.")
	tamu.Expect(t, "the refusal", telegramtest.HasText("Hanya petugas yang terdaftar"))

	budi.Reply(t, passed, "Bawa surat kehilangan dari kepolisian dan KK ke Disdukcapil.")
	got = siti.Expect(t, "Budi's answer", telegramtest.HasText("Bawa surat kehilangan"))
	for _, m := range siti.Seen {
		if strings.Contains(m.Text, "Datang saja ke kecamatan") || strings.Contains(m.Text, "Saya juga mau tanya") {
			t.Errorf("Siti received %q, which only Budi may answer", m.Text)
		}
	}

	budi.Command(t, "/akhiri "+id)
	budi.Expect(t, "the end confirmed", telegramtest.HasText("diakhiri"))
	got = siti.Expect(t, "the end and the rating", telegramtest.HasButton("hrate:"+id+":5"))
	if !telegramtest.ContainsText(got, "Petugas telah mengakhiri percakapan") {
		t.Errorf("Siti was not told the talk ended: %q", telegramtest.Texts(got))
	}
	// An answer after the end reaches nobody and says so.
	budi.Reply(t, passed, "Satu lagi, Bu.")
	budi.Expect(t, "the note that it ended", telegramtest.HasText("sudah selesai"))
}

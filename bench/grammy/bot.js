// A grammY bot that does, per update, the work Layan's Telegram webhook does: read the
// chat's session from Redis (@grammyjs/storage-redis), choose the reply from the
// update and the session, answer a pressed button's callback query, reply with a
// message carrying an inline keyboard, and write the session back. It is the other
// side of the comparison in bench/tgload; `go run ./bench/tgload` starts it.
//
// Settings (environment): BOT_TOKEN, API_ROOT (the fake Bot API, e.g.
// http://127.0.0.1:8081), PORT (the webhook listens on 127.0.0.1:PORT), REDIS_URL,
// WEBHOOK_SECRET.
import http from "node:http";
import { Bot, session, webhookCallback, InlineKeyboard } from "grammy";
import { RedisAdapter } from "@grammyjs/storage-redis";
import Redis from "ioredis";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const redis = new Redis(env("REDIS_URL"));
const bot = new Bot(env("BOT_TOKEN"), { client: { apiRoot: env("API_ROOT") } });

bot.use(session({
  initial: () => ({ step: "", turns: 0, options: [] }),
  storage: new RedisAdapter({ instance: redis, ttl: 3600 }),
  prefix: "grammy:",
}));

// The same menus Layan shows, so both send messages of about the same size.
const menus = {
  menu: ["Silakan pilih layanan (ketik angka atau nama menu):", [
    ["faq", "Tanya layanan"], ["complaint", "Buat pengaduan"], ["status", "Cek status pengaduan"],
    ["tourism", "Info wisata"], ["subscribe", "Langganan info"], ["human", "Bicara dengan petugas"],
    ["language", "Ganti bahasa"], ["help", "Bantuan"]]],
  tourism: ["Mari jelajahi wisata Kabupaten Contoh! Pilih kategori, atau pilih \"Terdekat dari saya\" untuk mencari tempat wisata di sekitar Anda.", [
    ["tourism:cat:pantai", "Pantai"], ["tourism:cat:alam", "Alam"], ["tourism:cat:budaya", "Budaya dan religi"],
    ["tourism:cat:kuliner", "Kuliner"], ["tourism:cat:agrowisata", "Agrowisata"], ["tourism:nearby", "Terdekat dari saya"],
    ["menu", "Menu utama"]]],
  "tourism:cat:pantai": ["Pantai: pilih tempat untuk melihat keterangannya.", [
    ["tourism:place:pantai-sigandu", "Pantai Sigandu"], ["tourism:place:batang-dolphins-center", "Batang Dolphins Center"],
    ["tourism:place:pantai-ujungnegoro", "Pantai Ujungnegoro"], ["tourism:place:pantai-jodo", "Pantai Jodo"],
    ["tourism:browse", "Kategori lain"], ["menu", "Menu utama"]]],
  answer: ["Untuk mengganti KTP-el yang hilang, siapkan surat keterangan kehilangan dari kepolisian dan Kartu Keluarga (KK), lalu bawa ke Disdukcapil atau Mal Pelayanan Publik (MPP).", [
    ["faq:yes", "Ya, membantu"], ["faq:no", "Belum"]]],
};

async function reply(ctx, name) {
  const [text, options] = menus[name] ?? menus.menu;
  const kb = new InlineKeyboard();
  for (const [id, label] of options) kb.text(label, id).row();
  ctx.session.step = name;
  ctx.session.turns++;
  ctx.session.options = options.map(([id]) => id);
  await ctx.reply(text, { reply_markup: kb });
}

bot.on("callback_query:data", async (ctx) => {
  await ctx.answerCallbackQuery();
  await reply(ctx, ctx.callbackQuery.data);
});

bot.on("message:text", async (ctx) => {
  const text = ctx.message.text.trim().toLowerCase();
  await reply(ctx, text === "menu" || text === "halo" || text === "/start" ? "menu" : "answer");
});

await bot.init(); // getMe, once
const server = http.createServer(webhookCallback(bot, "http", { secretToken: env("WEBHOOK_SECRET") }));
server.keepAliveTimeout = 60_000;
server.listen(Number(env("PORT")), "127.0.0.1", () => console.log("grammY bot listening"));

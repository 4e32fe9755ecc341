'use strict';
// Starts the Telegram Bot API emulator (telegram-test-api) for bot/telegram's
// end-to-end test:  node server.js PORT  (or TELEGRAM_TEST_PORT=PORT node server.js).
// It listens on 127.0.0.1 only and prints "listening on http://127.0.0.1:PORT" when
// ready. With --exit-with-stdin it stops when its standard input closes, so a test
// that dies cannot leave it running.
// The package exports the class itself (module.exports = TelegramServer).
const TelegramServer = require('telegram-test-api');

// A webhook delivery that fails (the bot answered 401 or is gone) rejects a promise
// nobody awaits; without this handler Node would exit.
process.on('unhandledRejection', (err) => {
  console.error('unhandled rejection:', (err && err.message) || err);
});

const args = process.argv.slice(2);
const port = Number(args.find((a) => /^\d+$/.test(a)) || process.env.TELEGRAM_TEST_PORT || 9000);
// Keep messages for 10 minutes (the default is 60 s).
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });

async function stop(code) {
  try {
    await server.stop();
  } finally {
    process.exit(code);
  }
}

server.start().then(() => {
  console.log(`listening on http://127.0.0.1:${port}`);
}).catch((err) => {
  console.error('cannot start:', err.message);
  process.exit(1);
});

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
if (args.includes('--exit-with-stdin')) {
  process.stdin.on('end', () => stop(0));
  process.stdin.resume();
}

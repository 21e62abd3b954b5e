#!/usr/bin/env node
// npm run pos: the demo POS. First line of output is the API base URL.
import { startEmulator } from './server.mjs';

const port = Number(process.env.POS_PORT ?? 8787);
const seed = process.env.POS_SEED ?? 'demo';
const emu = await startEmulator({ port, seed, rateLimit: process.env.POS_RATE_LIMIT !== 'off' });
console.log(emu.apiBase);
console.log(`token URL:     ${emu.tokenUrl}`);
console.log(`account ID:    ${emu.accountId}`);
console.log(`client ID:     ${emu.clientId}`);
console.log(`client secret: ${emu.clientSecret}`);
console.log(`authorize:     ${emu.url}/auth/oauth/authorize?response_type=code&client_id=${emu.clientId}&redirect_uri=<your callback>`);
console.log(`controls:      ${emu.url}/_emulator/ (POST grant gives a token pair)`);
console.log(`seed:          ${seed}`);
const stop = async () => {
  await emu.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

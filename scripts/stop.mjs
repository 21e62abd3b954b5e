// npm stop: stops what `npm start` started (pids in .site/pids.json); the shop's
// files stay in .site/ until the next `npm start` recreates them.
import fs from 'node:fs';
import path from 'node:path';
import { stopPid, REPO_ROOT } from './lib/site.mjs';

const PIDS = path.join(REPO_ROOT, '.site', 'pids.json');
if (!fs.existsSync(PIDS)) {
  console.log('Nothing to stop (no .site/pids.json).');
} else {
  const pids = JSON.parse(fs.readFileSync(PIDS, 'utf8'));
  for (const name of ['php', 'emulator', 'mariadb']) {
    if (pids[name]) {
      await stopPid(pids[name], name === 'mariadb' ? 30_000 : 5_000);
      console.log(`stopped ${name} (pid ${pids[name]})`);
    }
  }
  fs.rmSync(PIDS);
}

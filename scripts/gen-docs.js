#!/usr/bin/env node
// Regenerates docs/options.md and docs/hooks.md from the registries
// (run after `npm run build`; test/unit/docs.test.ts fails when stale).
const fs = require('fs');
const path = require('path');
const help = require('../dist/cli/help.js');
const docs = path.join(__dirname, '..', 'docs');
fs.writeFileSync(path.join(docs, 'options.md'), help.optionsDoc());
const intro = fs.readFileSync(path.join(docs, 'hooks-intro.md'), 'utf8');
fs.writeFileSync(path.join(docs, 'hooks.md'), help.hooksDoc(intro));

#!/usr/bin/env node
// Regenerates docs/options.md, docs/hooks.md and test/golden/help.txt from the registries
// (run after `npm run build`; test/unit/docs.test.ts fails when stale).
const fs = require('fs');
const path = require('path');
const help = require('../dist/cli/help.js');
const docs = path.join(__dirname, '..', 'docs');
fs.writeFileSync(path.join(docs, 'options.md'), help.optionsDoc());
const intro = fs.readFileSync(path.join(docs, 'hooks-intro.md'), 'utf8');
fs.writeFileSync(path.join(docs, 'hooks.md'), help.hooksDoc(intro));
// the --help golden file (test/integration/help.test.ts compares bin/liege --help to it)
fs.writeFileSync(path.join(__dirname, '..', 'test', 'golden', 'help.txt'), help.helpText());

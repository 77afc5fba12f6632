#!/usr/bin/env node
// Keeps the `dockwright.rules` setting's schema in package.json equal to the
// server's rule table, as `dockwright lint --list-rules` prints it (one line
// per rule: id, default severity, summary), so the Settings editor offers
// every rule id with its severities.
//   node scripts/rules.js [path/to/dockwright]          rewrite package.json
//   node scripts/rules.js --check [path/to/dockwright]  exit 1 when it differs
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const args = process.argv.slice(2);
const check = args[0] === '--check';
if (check) args.shift();
const bin = args[0] || 'dockwright';
const pkgPath = path.join(__dirname, '..', 'package.json');

const listing = execFileSync(bin, ['lint', '--list-rules'], { encoding: 'utf8' });
const rules = {};
for (const line of listing.split('\n')) {
  const m = /^(\S+)\s+(error|warning|info|information|hint|off)\s+(.*)$/.exec(line);
  if (!m) continue;
  rules[m[1]] = {
    type: 'string',
    enum: ['off', 'error', 'warning', 'information', 'hint'],
    markdownDescription: `${m[3]} (default: \`${m[2]}\`)`,
  };
}
if (Object.keys(rules).length === 0) {
  console.error(`${bin} lint --list-rules printed no rules`);
  process.exit(2);
}

const text = fs.readFileSync(pkgPath, 'utf8');
const pkg = JSON.parse(text);
pkg.contributes.configuration.properties['dockwright.rules'].properties = rules;
const out = JSON.stringify(pkg, null, 2) + '\n';
if (check) {
  if (out !== text) {
    console.error('package.json: dockwright.rules differs from `dockwright lint ' +
      '--list-rules`; run `npm run rules -- path/to/dockwright`');
    process.exit(1);
  }
  console.log(`package.json lists the ${Object.keys(rules).length} rules`);
} else {
  fs.writeFileSync(pkgPath, out);
  console.log(`package.json: ${Object.keys(rules).length} rules`);
}

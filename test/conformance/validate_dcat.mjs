// Validate a DCAT-AP JSON-LD document (pubdata.dcat_catalog()) with the
// official DCAT-AP 3.0.1 SHACL shapes.  Usage: node validate_dcat.mjs FILE
// [turtle].  Prints every result; exits 1 when there is a violation
// (sh:Violation), 0 when only warnings (recommended properties) remain.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import rdf from '@zazuko/env-node';
import jsonld from 'jsonld';
import SHACLValidator from 'rdf-validate-shacl';

const here = path.dirname(fileURLToPath(import.meta.url));
const [file, format] = process.argv.slice(2);

async function parse(text, mediaType) {
	const stream = rdf.formats.parsers.import(mediaType, Readable.from([text]));
	return rdf.dataset().import(stream);
}

const shapes = rdf.dataset();
for (const f of ['shapes.ttl', 'range.ttl', 'shapes_recommended.ttl'])
	shapes.addAll(await rdf.dataset().import(rdf.fromFile(path.join(here, 'dcat-ap-3.0.1', f))));

let data;
const text = readFileSync(file, 'utf8');
if (format === 'turtle')
	data = await parse(text, 'text/turtle');
else
	data = await parse(await jsonld.toRDF(JSON.parse(text), { format: 'application/n-quads' }),
					   'application/n-quads');
// imports.ttl: the one vCard fact a validator needs offline
data.addAll(await parse('<http://www.w3.org/2006/vcard/ns#Organization> ' +
						'<http://www.w3.org/2000/01/rdf-schema#subClassOf> ' +
						'<http://www.w3.org/2006/vcard/ns#Kind> .', 'application/n-quads'));

const report = await new SHACLValidator(shapes, { factory: rdf }).validate(data);
let violations = 0, warnings = 0;
const short = (t) => t ? t.value.replace(/^.*[#/]/, '') : '';
for (const r of report.results) {
	const sev = short(r.severity);
	if (sev === 'Violation') violations++; else warnings++;
	console.log(`${sev}: ${r.focusNode?.value} ${short(r.path)}: ${r.message.map((m) => m.value).join('; ')}`);
}
console.log(`dcat: ${data.size} triples, ${violations} violations, ${warnings} warnings`);
process.exit(violations > 0 ? 1 : 0);

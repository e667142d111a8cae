// The Turtle and JSON-LD serialisations of pubdata.dcat_catalog() are the
// same RDF graph: both parsed (JSON-LD expanded with jsonld, Turtle with the
// N3 parser that @zazuko/env-node bundles), canonicalised (RDF Dataset
// Canonicalization, rdf-canonize) and compared.
// Usage: node compare_dcat.mjs CATALOG.jsonld CATALOG.ttl
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import rdf from '@zazuko/env-node';
import jsonld from 'jsonld';

const [jsonFile, ttlFile] = process.argv.slice(2);
async function parse(text, mediaType) {
	return rdf.dataset().import(rdf.formats.parsers.import(mediaType, Readable.from([text])));
}
const fromJson = await parse(await jsonld.toRDF(JSON.parse(readFileSync(jsonFile, 'utf8')),
												{ format: 'application/n-quads' }), 'application/n-quads');
const fromTtl = await parse(readFileSync(ttlFile, 'utf8'), 'text/turtle');
// toCanonical(): RDF Dataset Canonicalization of the RDF/JS dataset (rdf-canonize)
const a = fromJson.toCanonical(), b = fromTtl.toCanonical();
if (a !== b) {
	const la = new Set(a.split('\n')), lb = new Set(b.split('\n'));
	for (const l of la) if (!lb.has(l)) console.log(`only in JSON-LD: ${l}`);
	for (const l of lb) if (!la.has(l)) console.log(`only in Turtle:  ${l}`);
	console.log(`dcat: the Turtle graph (${fromTtl.size} triples) differs from the JSON-LD graph (${fromJson.size})`);
	process.exit(1);
}
console.log(`dcat: Turtle and JSON-LD are the same graph (${fromTtl.size} triples)`);

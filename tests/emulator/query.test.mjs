// Cursor pagination, sort, count, limit, filters with every operator,
// relation filters, archived modes and load_relations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, enc, asList } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: false });
  // 250 extra items so paging crosses several pages.
  for (let i = 0; i < 250; i++) await c.post('Item.json', { description: `Paging item ${i}`, customSku: `PG-${String(i).padStart(3, '0')}` });
});
after(() => c.close());

const rel = (u) => u.replace(/^.*\/Account\/1\//, '');

async function walk(first, dir = 'next') {
  const seen = [];
  let url = first;
  let pages = 0;
  let last;
  while (url) {
    const r = await c.get(rel(url));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages++;
    seen.push(...asList(r.body.Item ?? r.body.ItemShop));
    last = r.body;
    url = r.body['@attributes'][dir];
    assert.ok(pages < 100, 'runaway pagination');
  }
  return { seen, pages, last };
}

test('next URLs cover every row exactly once, in order; previous walks back', async () => {
  const total = Number((await c.get('Item.json?count=1')).body['@attributes'].count);
  assert.ok(total > 250);
  const first = await c.get('Item.json?limit=100');
  assert.equal(first.body['@attributes'].previous, '', 'first page has no previous');
  const next = first.body['@attributes'].next;
  assert.match(next, /^http:\/\/127\.0\.0\.1:\d+\/API\/V3\/Account\/1\/Item\.json\?.*after=/);
  assert.match(next, /sort=itemID/, 'default sort appended');
  const { seen, pages, last } = await walk('Item.json?limit=100');
  assert.equal(pages, Math.ceil(total / 100));
  assert.equal(seen.length, total);
  const ids = seen.map((i) => Number(i.itemID));
  assert.equal(new Set(ids).size, total, 'no duplicates');
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(last['@attributes'].next, '');
  // walk back from the last page with previous
  const back = await walk(last['@attributes'].previous, 'previous');
  const lastPageCount = asList(last.Item).length;
  assert.equal(back.seen.length, total - lastPageCount);
  assert.equal(new Set(back.seen.map((i) => i.itemID)).size, back.seen.length);
});

test('sort=-itemID and sort=timeStamp page consistently; unknown sort is 400', async () => {
  const desc = await walk('Item.json?limit=100&sort=-itemID');
  const ids = desc.seen.map((i) => Number(i.itemID));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  const byTs = await walk('Item.json?limit=37&sort=timeStamp');
  const keys = byTs.seen.map((i) => [Date.parse(i.timeStamp), Number(i.itemID)]);
  for (let k = 1; k < keys.length; k++) assert.ok(keys[k - 1][0] < keys[k][0] || (keys[k - 1][0] === keys[k][0] && keys[k - 1][1] < keys[k][1]));
  assert.equal(new Set(keys.map((k) => k[1])).size, ids.length);
  const bad = await c.get('Item.json?sort=weight');
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /Allowed/);
});

test('limit is at most 100; offset and count with paging params are refused', async () => {
  assert.equal((await c.get('Item.json?limit=101')).status, 400);
  assert.equal(asList((await c.get('Item.json?limit=100')).body.Item).length, 100);
  assert.equal((await c.get('Item.json?offset=100')).status, 400);
  assert.equal((await c.get('Item.json?count=1&limit=10')).status, 400);
  assert.equal((await c.get('Item.json?count=1&sort=itemID')).status, 400);
  const counted = await c.get(`Item.json?count=1&description=${enc('~,Paging item 1%')}`);
  assert.deepEqual(Object.keys(counted.body), ['@attributes']);
  assert.deepEqual(Object.keys(counted.body['@attributes']), ['count']);
  assert.equal(counted.body['@attributes'].count, '111'); // 1, 10-19, 100-199
  const clamp = await c.control('POST', 'config', { limit_over_max: 'clamp' });
  assert.equal(clamp.status, 200);
  assert.equal(asList((await c.get('Item.json?limit=500')).body.Item).length, 100);
  await c.control('POST', 'config', { limit_over_max: 'error' });
});

test('filter operators: = != > >= < <= >< ~ !~ IN', async () => {
  const ids = async (q) => asList((await c.get(`Item.json?${q}`)).body.Item).map((i) => Number(i.itemID));
  assert.deepEqual(await ids('itemID=3'), [3]);
  assert.deepEqual(await ids(`itemID=${enc('>,260')}&limit=100`), (await ids('limit=100&sort=-itemID')).filter((x) => x > 260).sort((a, b) => a - b));
  assert.deepEqual(await ids(`itemID=${enc('>=,5')}&limit=3`), [5, 7, 8]); // 6 is archived, hidden
  assert.deepEqual(await ids(`itemID=${enc('<,3')}`), [1, 2]);
  assert.deepEqual(await ids(`itemID=${enc('<=,3')}`), [1, 2, 3]);
  assert.deepEqual(await ids(`itemID=${enc('><,4,6')}`), [4, 5]); // 6 is archived, hidden
  assert.deepEqual(await ids(`itemID=${enc('>=,11')}&limit=2`), [11, 12]);
  assert.ok(!(await ids(`itemID=${enc('!=,1')}&limit=5`)).includes(1));
  assert.deepEqual(await ids(`itemID=${enc('IN,[2,4,9999]')}`), [2, 4]);
  assert.deepEqual(await ids(`itemID=${enc('IN,1,3')}`), [1, 3]);
  assert.deepEqual(await ids(`customSku=${enc('~,crew-%-blk')}`), [7, 8, 9]);
  assert.deepEqual(await ids(`customSku=${enc('~,MUG%')}`), [3]);
  const notLike = await ids(`customSku=${enc('!~,PG-%')}`);
  assert.ok(notLike.length > 5 && notLike.every((x) => x < 13));
  const tooMany = await c.get(`Item.json?itemID=${enc(`IN,${JSON.stringify(Array.from({ length: 101 }, (_, i) => i + 1))}`)}`);
  assert.equal(tooMany.status, 400);
  assert.equal((await c.get('Item.json?bogusField=1')).status, 400);
  assert.equal((await c.get(`Item.json?itemID=${enc('>,abc')}`)).status, 400);
});

test('timeStamp filters need an encoded "+": a bare + decodes to a space and is refused', async () => {
  const ok = await c.get(`ItemShop.json?timeStamp=${enc('>,2000-01-01T00:00:00+00:00')}&limit=1`);
  assert.equal(ok.status, 200);
  const bad = await c.get(`ItemShop.json?timeStamp=${enc('>,')}2000-01-01T00:00:00+00:00&limit=1`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /%2B/);
});

test('ItemShop incremental read: sort=timeStamp with >, and >=, sees new changes', async () => {
  const cutoff = (await c.control('GET', 'clock')).body.now;
  await c.control('POST', 'clock', { advance_s: 5 });
  await c.control('POST', 'stock', { itemID: 2, shopID: 1, qoh: 9 });
  const after = asList((await c.get(`ItemShop.json?sort=timeStamp&timeStamp=${enc(`>,${cutoff}`)}`)).body.ItemShop);
  assert.deepEqual(after.map((r) => `${r.itemID}/${r.shopID}`).sort(), ['2/0', '2/1']);
  const ts = after[0].timeStamp;
  const ge = asList((await c.get(`ItemShop.json?sort=timeStamp&timeStamp=${enc(`>=,${ts}`)}`)).body.ItemShop);
  assert.equal(ge.length, 2);
  const gt = await c.get(`ItemShop.json?sort=timeStamp&timeStamp=${enc(`>,${ts}`)}`);
  assert.equal(gt.body['@attributes'].count, '0');
});

test('relation filters: ItemShops.qoh / ItemShops.timeStamp need the relation loaded', async () => {
  const notLoaded = await c.get(`Item.json?ItemShops.qoh=${enc('>,25')}`);
  assert.equal(notLoaded.status, 400);
  const r = await c.get(`Item.json?load_relations=${enc('["ItemShops"]')}&ItemShops.qoh=${enc('>,40')}`);
  assert.deepEqual(asList(r.body.Item).map((i) => i.customSku), ['MUG-HARB']); // total row 48
  const cutoff = (await c.control('GET', 'clock')).body.now;
  await c.control('POST', 'clock', { advance_s: 3 });
  await c.control('POST', 'stock', { itemID: 5, shopID: 2, qoh: 1 });
  const changed = await c.get(`Item.json?load_relations=${enc('["ItemShops"]')}&ItemShops.timeStamp=${enc(`>,${cutoff}`)}`);
  assert.deepEqual(asList(changed.body.Item).map((i) => i.itemID), ['5']);
  const tagged = await c.get(`Item.json?load_relations=${enc('["TagRelations"]')}&TagRelations.tagID=3`);
  assert.deepEqual(asList(tagged.body.Item).map((i) => i.customSku), ['MUG-HARB']);
});

test('archived=false (default) hides, true includes, only shows only archived', async () => {
  const q = (a) => c.get(`Item.json?count=1${a ? `&archived=${a}` : ''}`).then((r) => Number(r.body['@attributes'].count));
  const [dflt, f, t, only] = [await q(''), await q('false'), await q('true'), await q('only')];
  assert.equal(dflt, f);
  assert.equal(only, 1);
  assert.equal(t, f + only);
  const onlyRows = asList((await c.get('Item.json?archived=only')).body.Item);
  assert.equal(onlyRows[0].archived, 'true');
  assert.equal((await c.get('Item.json?archived=maybe')).status, 400);
  // a single GET by id still returns an archived item
  assert.equal((await c.get(`Item/${onlyRows[0].itemID}.json`)).status, 200);
});

test('load_relations: JSON array, all, nested names; bad values are 400', async () => {
  const plain = (await c.get('Item/1.json')).body.Item;
  assert.equal(plain.ItemShops, undefined);
  assert.ok(plain.Prices, 'Prices are always present');
  const some = (await c.get(`Item/1.json?load_relations=${enc('["ItemShops","Images"]')}`)).body.Item;
  assert.ok(some.ItemShops.ItemShop);
  assert.ok(some.Images.Image);
  assert.equal(some.Category, undefined);
  const all = (await c.get('Item/7.json?load_relations=all')).body.Item;
  for (const k of ['ItemShops', 'ItemECommerce', 'Images', 'ItemAttributes', 'Category', 'TagRelations', 'ItemMatrix']) assert.ok(k in all, k);
  assert.equal(all.TagRelations.TagRelation.Tag.name, 'summer');
  const nested = (await c.get(`Item/1.json?load_relations=${enc('["TagRelations.Tag"]')}`)).body.Item;
  assert.deepEqual(nested.TagRelations.TagRelation.map((t) => t.Tag.name), ['summer', 'web-featured']);
  assert.equal((await c.get(`Item/1.json?load_relations=${enc('["Nope"]')}`)).status, 400);
  assert.equal((await c.get('Item/1.json?load_relations=[ItemShops')).status, 400);
  const matrix = (await c.get(`ItemMatrix/1.json?load_relations=${enc('["Items","ItemAttributeSet","Images"]')}`)).body.ItemMatrix;
  assert.equal(matrix.Items.Item.length, 6);
  assert.equal(matrix.ItemAttributeSet.attributeName1, 'Size');
});

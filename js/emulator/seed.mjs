// Seeds: "demo" (a small shop that looks real), "empty" (only the account's
// fixed records: shops, registers, employees, payment types) and "big:N"
// (N simple items stocked in two shops, built in bulk for benchmarks).
import { AccountState } from './store.mjs';
import { RESERVED_PAYMENT_TYPES } from './paymentTypes.mjs';
import { renumberCategories } from './categories.mjs';
import { defaultPrices, newItem, systemSkuFor } from './items.mjs';
import { newMatrix } from './itemMatrices.mjs';
import { addImage } from './images.mjs';
import { applyContact, newContact } from './customers.mjs';
import { createSale } from './sales.mjs';
import { badRequest } from './wire.mjs';

const DAY = 86_400_000;

export function seedState(clock, seed = 'demo', { imageBaseURL = '' } = {}) {
  const state = new AccountState(clock);
  state.imageBaseURL = imageBaseURL;
  state.imagesByPublicID = new Map();
  state.taxCategories = new Map([[1, { name: 'Sales Tax 10%', tax1Rate: 0.1, tax2Rate: 0 }]]);
  const m = /^(demo|empty|big:(\d+))$/.exec(String(seed));
  if (!m) throw badRequest(`Unknown seed '${seed}': use demo, empty or big:N.`);
  seedBase(state);
  if (m[1] === 'demo') seedDemo(state);
  if (m[2] !== undefined) seedBig(state, Number(m[2]));
  return state;
}

function seedBase(state) {
  const t = state.tables;
  const then = state.now() - 400 * DAY;
  t.accounts.insert({ accountID: 1, name: 'POS Sync Demo Store' });
  for (const [name, tz] of [
    ['Main Street', 'America/New_York'],
    ['Harbour', 'America/New_York'],
  ]) {
    t.shops.insert({ shopID: 0, name, serviceRate: 0, timeZone: tz, taxLabor: false, labelTitle: 'Shop Name', labelMsrp: false, archived: false, timeStamp: then, companyRegistrationNumber: '', vatNumber: '', zebraBrowserPrint: false, contactID: 0, taxCategoryID: 0, receiptSetupID: 1, ccGatewayID: 0, gatewayConfigID: 0, priceLevelID: 1 });
  }
  t.registers.insert({ registerID: 0, name: 'Register 1', open: true, openTime: then, openEmployeeID: 1, cashDrawerID: 1, registerReceiptTemplateID: 1, registerTitle: 'Main Street 1', archived: false, shopID: 1 });
  t.registers.insert({ registerID: 0, name: 'Register 1', open: true, openTime: then, openEmployeeID: 2, cashDrawerID: 2, registerReceiptTemplateID: 1, registerTitle: 'Harbour 1', archived: false, shopID: 2 });
  for (const [first, last, shop] of [
    ['Alex', 'Owner', 0],
    ['Sam', 'Seller', 2],
    ['Web', 'Store', 0],
  ]) {
    t.employees.insert({ employeeID: 0, firstName: first, lastName: last, lockOut: false, archived: false, timeStamp: then, contactID: 0, clockInEmployeeHoursID: 0, employeeRoleID: 1, limitToShopID: shop, lastShopID: shop || 1, lastSaleID: 0, lastRegisterID: 0 });
  }
  // The two tax classes every account has (IDs unverified).
  t.taxClasses.insert({ taxClassID: 0, name: 'Item', classType: 'item', timeStamp: then });
  t.taxClasses.insert({ taxClassID: 0, name: 'Labor', classType: 'workorder', timeStamp: then });
  for (const p of RESERVED_PAYMENT_TYPES) {
    t.paymentTypes.insert({ paymentTypeID: 0, name: p.name, requireCustomer: p.type === 'credit account', archived: false, internalReserved: p.internalReserved ?? true, type: p.type, refundAsPaymentTypeID: p.refundAsPaymentTypeID });
  }
}

function addCategory(state, name, parentID, ts) {
  return state.tables.categories.insert({ categoryID: 0, name, nodeDepth: 0, fullPathName: '', leftNode: 0, rightNode: 0, createTime: ts, timeStamp: ts, parentID });
}

function addItem(state, fields, { stock = {}, ecommerce = null, attributes = null, tags = [], ts }) {
  const item = newItem(state, { ...fields, createTime: ts, timeStamp: ts });
  if (ecommerce) item.ecommerce = { itemECommerceID: state.nextItemECommerceId++, listOnStore: true, ...ecommerce };
  item.attributes = attributes;
  state.tables.items.insert(item);
  item.systemSku = systemSkuFor(item.itemID);
  item.tagRelations = tags.map((tagID) => ({ tagRelationID: state.nextTagRelationId++, tagID, itemID: item.itemID }));
  if (item.itemMatrixID) state.tables.itemMatrices.get(item.itemMatrixID)._items.push(item);
  const shops = Object.entries(stock);
  if (shops.length) {
    for (const [shopID, qoh] of shops) {
      const row = state.itemShopRow(item, Number(shopID), { ts });
      row.qoh = qoh;
      row.sellable = qoh;
      row.reorderPoint = 2;
      row.reorderLevel = 6;
    }
    state.recomputeTotal(item, state.itemShopRow(item, 0, { ts }));
  }
  return item;
}

function seedDemo(state) {
  const t = state.tables;
  const now = state.now();
  const created = now - 90 * DAY;
  const apparel = addCategory(state, 'Apparel', 0, created);
  const tees = addCategory(state, 'T-Shirts', apparel.categoryID, created);
  const hoodies = addCategory(state, 'Hoodies', apparel.categoryID, created);
  const home = addCategory(state, 'Home', 0, created);
  const mugs = addCategory(state, 'Mugs', home.categoryID, created);
  renumberCategories(state);
  for (const name of ['summer', 'web-featured', 'gift']) t.tags.insert({ tagID: 0, name });
  // A class the merchant added; the Harbour Mug is in it, so a shop can map it to
  // WooCommerce's Reduced rate. The Enamel Camp Mug is not taxable at all.
  const reduced = t.taxClasses.insert({ taxClassID: 0, name: 'Reduced rate', classType: 'item', timeStamp: created });
  const sizeColour = t.itemAttributeSets.insert({ itemAttributeSetID: 0, name: 'Size/Colour', attributeName1: 'Size', attributeName2: 'Colour', attributeName3: '', system: false, archived: false });

  const ts = (daysAgo) => now - daysAgo * DAY;
  const tee = addItem(
    state,
    { description: 'Classic Tee - White', customSku: 'TEE-WHT', taxClassID: 1, manufacturerSku: 'CT-100-W', upc: '012345678905', defaultCost: 6.5, avgCost: 6.5, categoryID: tees.categoryID, publishToEcom: true, prices: defaultPrices(19, 17, 22) },
    {
      stock: { 1: 12, 2: 5 },
      ecommerce: { longDescription: '<p>Our <strong>classic</strong> heavyweight tee, 100% organic cotton.</p><ul><li>Regular fit</li><li>Pre-shrunk</li></ul>', shortDescription: '<p>Organic cotton tee.</p>', weight: 0.2, width: 25, height: 2, length: 30 },
      tags: [1, 2],
      ts: ts(30),
    },
  );
  const hoodie = addItem(
    state,
    { description: 'Logo Hoodie', customSku: 'HOOD-LOGO', taxClassID: 1, manufacturerSku: 'LH-200', defaultCost: 21, avgCost: 21, categoryID: hoodies.categoryID, publishToEcom: true, prices: defaultPrices(49, 45, 55) },
    {
      stock: { 1: 4, 2: 0 },
      // A description a web shop must sanitise before it reaches HTML.
      ecommerce: { longDescription: '<p>Warm fleece hoodie with our logo.</p><script>alert("pos-sync xss test")</script><p onclick="steal()">Machine washable.</p>', shortDescription: '<p>Fleece hoodie.</p>', weight: 0.65, width: 35, height: 5, length: 40 },
      ts: ts(25),
    },
  );
  const mug = addItem(
    state,
    { description: 'Harbour Mug', customSku: 'MUG-HARB', taxClassID: reduced.taxClassID, defaultCost: 4, avgCost: 4, categoryID: mugs.categoryID, publishToEcom: true, prices: defaultPrices(12.5, 12.5, 14) },
    { stock: { 1: 30, 2: 18 }, ecommerce: { longDescription: '<p>Stoneware mug with the harbour skyline. 350&nbsp;ml.</p>', shortDescription: 'Stoneware mug', weight: 0.4, width: 9, height: 10, length: 12 }, tags: [3], ts: ts(20) },
  );
  // Only a systemSku: customSku left empty on purpose.
  const camp = addItem(
    state,
    { description: 'Enamel Camp Mug', customSku: '', tax: false, taxClassID: 1, defaultCost: 5, avgCost: 5, categoryID: mugs.categoryID, publishToEcom: true, prices: defaultPrices(15, 15, 15) },
    { stock: { 1: 0, 2: 7 }, ecommerce: { longDescription: '<p>Enamel mug for the trail.</p>', shortDescription: '', weight: 0.25, width: 9, height: 8, length: 12 }, ts: ts(18) },
  );
  // In-store only: publishToEcom false.
  addItem(state, { description: 'Canvas Tote', customSku: 'TOTE-01', defaultCost: 3, avgCost: 3, categoryID: home.categoryID, publishToEcom: false, prices: defaultPrices(9, 9, 9) }, { stock: { 1: 8, 2: 2 }, ts: ts(15) });
  // Archived: hidden unless archived=true|only.
  addItem(state, { description: 'Vintage Tee (discontinued)', customSku: 'TEE-VINT', defaultCost: 5, avgCost: 5, categoryID: tees.categoryID, publishToEcom: true, archived: true, prices: defaultPrices(15, 12, 15) }, { stock: { 1: 0, 2: 0 }, ts: ts(60) });

  const matrix = t.itemMatrices.insert(
    newMatrix({ itemMatrixID: 0, description: 'Crew Tee', tax: true, defaultCost: 8, itemType: 'default', modelYear: 0, archived: false, timeStamp: ts(10), categoryID: tees.categoryID, taxClassID: 1, departmentID: 0, itemAttributeSetID: sizeColour.itemAttributeSetID, manufacturerID: 0, seasonID: 0, defaultVendorID: 0, prices: defaultPrices(24, 22, 28) }),
  );
  matrix.ecommerce = { itemECommerceID: state.nextItemECommerceId++, longDescription: '<p>The <em>Crew Tee</em>: soft, light, everyday.</p>', shortDescription: '<p>Everyday crew tee.</p>', weight: 0.18, width: 25, height: 2, length: 30, listOnStore: true };
  const variants = [];
  let n = 0;
  for (const colour of ['Black', 'Navy']) {
    for (const size of ['S', 'M', 'L']) {
      n++;
      const v = addItem(
        state,
        { description: `Crew Tee ${size} ${colour}`, customSku: `CREW-${size}-${colour === 'Black' ? 'BLK' : 'NVY'}`, taxClassID: 1, defaultCost: 8, avgCost: 8, categoryID: tees.categoryID, itemMatrixID: matrix.itemMatrixID, publishToEcom: true, prices: defaultPrices(24, 22, 28) },
        { stock: { 1: n + 2, 2: n % 3 }, ecommerce: { longDescription: '', shortDescription: '', weight: 0.18, width: 25, height: 2, length: 30 }, attributes: { attribute1: size, attribute2: colour, attribute3: '', itemAttributeSetID: sizeColour.itemAttributeSetID }, tags: [1], ts: ts(10) },
      );
      variants.push(v);
    }
  }
  addImage(state, { itemID: tee.itemID, description: 'Classic Tee front', filename: 'classic-tee.png', publicID: 'demo/classic-tee-front', ordering: 0 });
  addImage(state, { itemID: tee.itemID, description: 'Classic Tee back', filename: 'classic-tee-back.png', publicID: 'demo/classic-tee-back', ordering: 1 });
  addImage(state, { itemID: hoodie.itemID, description: 'Logo Hoodie', filename: 'logo-hoodie.jpg', publicID: 'demo/logo-hoodie', ordering: 0 });
  addImage(state, { itemID: mug.itemID, description: 'Harbour Mug', filename: 'harbour-mug.jpg', publicID: 'demo/harbour-mug', ordering: 0 });
  addImage(state, { itemID: camp.itemID, description: 'Enamel Camp Mug', filename: 'camp-mug.png', publicID: 'demo/camp-mug', ordering: 0 });
  addImage(state, { itemMatrixID: matrix.itemMatrixID, description: 'Crew Tee', filename: 'crew-tee.png', publicID: 'demo/crew-tee', ordering: 0 });
  // Variation images: one per colour, on that colour's variants.
  for (const v of variants) {
    const colour = v.attributes.attribute2.toLowerCase();
    addImage(state, { itemID: v.itemID, itemMatrixID: 0, description: `Crew Tee ${v.attributes.attribute2}`, filename: `crew-tee-${colour}.png`, publicID: `demo/crew-tee-${colour}-${v.attributes.attribute1.toLowerCase()}`, ordering: 0 });
  }

  for (const [first, last, email, phone, city] of [
    ['Jane', 'Doe', 'jane.doe@example.com', '555-0101', 'Portland'],
    ['Omar', 'Haddad', 'omar@example.org', '555-0102', 'Seattle'],
  ]) {
    const c = { customerID: 0, firstName: first, lastName: last, dob: null, archived: false, title: '', company: '', companyRegistrationNumber: '', vatNumber: '', createTime: ts(50), timeStamp: ts(50), contactID: 0, creditAccountID: 0, customerTypeID: 0, discountID: 0, taxCategoryID: 0 };
    c.contact = newContact(state);
    c.contactID = c.contact.contactID;
    applyContact(c.contact, { Emails: { ContactEmail: { address: email, useType: 'Primary' } }, Phones: { ContactPhone: { number: phone, useType: 'Mobile' } }, Addresses: { ContactAddress: { address1: '1 Main St', city, state: 'OR', zip: '97201', country: 'United States', countryCode: 'US', stateCode: 'OR' } } }, ts(50));
    state.tables.customers.insert(c);
    state.indexCustomerEmails(c);
  }
  // One completed in-store sale so the sales history is not empty.
  createSale(state, { employeeID: 2, registerID: 2, shopID: 2, customerID: 1, completed: true, SaleLines: { SaleLine: { itemID: mug.itemID, unitQuantity: 2, unitPrice: 12.5 } }, SalePayments: { SalePayment: { paymentTypeID: 1, amount: 25 } } });
}

function seedBig(state, n) {
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw badRequest(`big:N needs 0 <= N <= 1000000, got ${n}.`);
  const t = state.tables;
  const base = state.now() - DAY;
  const cat = addCategory(state, 'Bulk', 0, base);
  renumberCategories(state);
  for (let i = 1; i <= n; i++) {
    // ~50 rows share each second so cursors must handle equal timestamps.
    const ts = base + Math.floor(i / 50) * 1000;
    const item = {
      itemID: i,
      systemSku: systemSkuFor(i),
      defaultCost: 5,
      avgCost: 5,
      discountable: true,
      tax: true,
      archived: false,
      itemType: 'default',
      serialized: false,
      description: `Bulk item ${i}`,
      modelYear: 0,
      upc: '',
      ean: '',
      customSku: `BULK-${i}`,
      manufacturerSku: '',
      createTime: ts,
      timeStamp: ts,
      publishToEcom: true,
      categoryID: cat.categoryID,
      taxClassID: 1,
      departmentID: 0,
      itemMatrixID: 0,
      manufacturerID: 0,
      seasonID: 0,
      defaultVendorID: 0,
      prices: defaultPrices(10 + (i % 90), 10 + (i % 90), 10 + (i % 90)),
      ecommerce: null,
      attributes: null,
      tagRelations: [],
      _shops: new Map(),
      _images: [],
    };
    t.items.insert(item, { deferIndex: true });
    const q1 = i % 17;
    const q2 = i % 5;
    for (const [shopID, qoh] of [
      [1, q1],
      [2, q2],
      [0, q1 + q2],
    ]) {
      const row = { itemShopID: 0, qoh, sellable: qoh, backorder: 0, componentQoh: 0, componentBackorder: 0, reorderPoint: 0, reorderLevel: 0, timeStamp: ts, itemID: i, shopID };
      t.itemShops.insert(row, { deferIndex: true });
      item._shops.set(shopID, row);
    }
  }
  t.items.rebuildTsIndex();
  t.itemShops.rebuildTsIndex();
}

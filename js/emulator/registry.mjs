// Every entity the emulator knows, by Lightspeed name. Endpoint resources have
// a table; the others (ItemECommerce, Contact, …) only appear nested.
import accounts from './accounts.mjs';
import shops from './shops.mjs';
import registers from './registers.mjs';
import employees from './employees.mjs';
import paymentTypes from './paymentTypes.mjs';
import tags, { tagRelation } from './tags.mjs';
import taxClasses from './taxClasses.mjs';
import categories from './categories.mjs';
import itemAttributeSets from './itemAttributeSets.mjs';
import itemMatrices from './itemMatrices.mjs';
import items, { itemAttributes, itemECommerce, itemPrice } from './items.mjs';
import itemShops from './itemShops.mjs';
import images from './images.mjs';
import customers, { contact } from './customers.mjs';
import sales from './sales.mjs';
import saleLines from './saleLines.mjs';
import salePayments from './salePayments.mjs';

export const registry = Object.fromEntries(
  [accounts, shops, registers, employees, paymentTypes, tags, tagRelation, taxClasses, categories, itemAttributeSets, itemMatrices, items, itemAttributes, itemECommerce, itemPrice, itemShops, images, customers, contact, sales, saleLines, salePayments].map((d) => [d.name, d]),
);

// Resources reachable under /API/V3/Account/{id}/<Name>.json
export const endpoints = Object.fromEntries(Object.values(registry).filter((d) => d.table && d.name !== 'Account').map((d) => [d.name, d]));

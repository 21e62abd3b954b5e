// Image: metadata rows; the bytes are served by the emulator's stand-in CDN at
// baseImageURL + publicID (optionally with transformations and an extension,
// e.g. …/images/w_300/demo/tee-red.png), as real Lightspeed images live on
// Cloudinary.
const def = {
  name: 'Image',
  table: 'images',
  idField: 'imageID',
  fields: [
    ['imageID', 'id'],
    ['description', 'str'],
    ['filename', 'str'],
    ['ordering', 'int'],
    ['publicID', 'str'],
    ['baseImageURL', 'str'],
    ['size', 'int'],
    ['createTime', 'ts'],
    ['timeStamp', 'ts'],
    ['itemID', 'id'],
    ['itemMatrixID', 'id'],
  ],
  get(state, row, name) {
    if (name === 'baseImageURL') return state.imageBaseURL;
    return row[name];
  },
  sortable: ['imageID', 'timeStamp', 'ordering'],
  relations: {
    Item: { many: false, entity: 'Item', rows: (st, row) => (row.itemID ? st.tables.items.get(row.itemID) : null) },
  },
  readOnly: true,
};
export default def;

export function addImage(state, { itemID = 0, itemMatrixID = 0, description = '', filename, publicID, ordering = 0 }) {
  const now = state.now();
  const row = {
    imageID: 0,
    description,
    filename,
    ordering,
    publicID,
    size: 0,
    createTime: now,
    timeStamp: now,
    itemID,
    itemMatrixID,
  };
  state.tables.images.insert(row);
  state.imagesByPublicID.set(publicID, row);
  if (itemID) state.tables.items.get(itemID)?._images.push(row);
  if (itemMatrixID) state.tables.itemMatrices.get(itemMatrixID)?._images.push(row);
  return row;
}

//! Items, matrices, attribute sets and categories: the catalogue resources.

use super::*;

// ---------------------------------------------------------------------------
// Resources

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemPrice {
    pub amount: Money,
    pub use_type_id: Option<String>,
    pub use_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemShop {
    pub item_shop_id: String,
    pub item_id: String,
    /// `None` = shopID 0, the all-shops total row.
    pub shop_id: Option<String>,
    pub qoh: i64,
    pub sellable: Option<i64>,
    pub backorder: i64,
    pub reorder_point: i64,
    pub reorder_level: i64,
    pub time_stamp: String,
}

impl Resource for ItemShop {
    const NAME: &'static str = "ItemShop";
    const ID: &'static str = "itemShopID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(ItemShop {
            item_shop_id: f.required_id("itemShopID")?,
            item_id: f.required_id("itemID")?,
            shop_id: f.foreign_key("shopID")?,
            qoh: f.int("qoh")?,
            sellable: f.opt_int("sellable")?,
            backorder: f.int("backorder")?,
            reorder_point: f.int("reorderPoint")?,
            reorder_level: f.int("reorderLevel")?,
            time_stamp: f.text("timeStamp")?,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemEcommerce {
    pub long_description: String,
    pub short_description: String,
    pub weight: String,
    pub width: String,
    pub height: String,
    pub length: String,
    pub list_on_store: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub image_id: String,
    pub description: String,
    pub filename: String,
    pub ordering: i64,
    pub public_id: String,
    pub base_image_url: String,
    pub item_id: Option<String>,
    pub item_matrix_id: Option<String>,
}

impl Resource for Image {
    const NAME: &'static str = "Image";
    const ID: &'static str = "imageID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Image {
            image_id: f.required_id("imageID")?,
            description: f.text("description")?,
            filename: f.text("filename")?,
            ordering: f.int("ordering")?,
            public_id: f.text("publicID")?,
            base_image_url: f.text("baseImageURL")?,
            item_id: f.foreign_key("itemID")?,
            item_matrix_id: f.foreign_key("itemMatrixID")?,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemAttributes {
    pub attribute1: String,
    pub attribute2: String,
    pub attribute3: String,
    pub item_attribute_set_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub item_id: String,
    pub system_sku: String,
    pub custom_sku: String,
    pub manufacturer_sku: String,
    pub upc: String,
    pub ean: String,
    pub description: String,
    pub default_cost: Money,
    pub archived: bool,
    pub item_type: String,
    pub publish_to_ecom: bool,
    /// `tax`: the item is taxed at all (true when the POS leaves it out).
    pub taxable: bool,
    /// `taxClassID` (`None` for `"0"`): the rate class, mapped to a
    /// WooCommerce tax class by a setting.
    pub tax_class_id: Option<String>,
    pub category_id: Option<String>,
    pub item_matrix_id: Option<String>,
    pub time_stamp: String,
    pub prices: Vec<ItemPrice>,
    /// Present only when loaded with `load_relations=["ItemShops"]`.
    pub item_shops: Vec<ItemShop>,
    pub ecommerce: Option<ItemEcommerce>,
    pub images: Vec<Image>,
    pub attributes: Option<ItemAttributes>,
}

impl Item {
    /// The SKU shown on the web: the merchant's custom SKU, else the
    /// system SKU Lightspeed always assigns.
    pub fn sku(&self) -> &str {
        let custom = self.custom_sku.trim();
        if custom.is_empty() {
            self.system_sku.trim()
        } else {
            custom
        }
    }

    pub fn price(&self, use_type: &str) -> Option<Money> {
        self.prices
            .iter()
            .find(|p| p.use_type.eq_ignore_ascii_case(use_type))
            .map(|p| p.amount)
    }
}

impl Resource for Item {
    const NAME: &'static str = "Item";
    const ID: &'static str = "itemID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        let item_id = f.required_id("itemID")?;
        let prices = read_prices(&f, Self::NAME).map_err(|e| with_id(e, &item_id))?;
        let item_shops = f
            .nested("ItemShops", "ItemShop")?
            .into_iter()
            .map(ItemShop::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ParseError::new("Item", Some(item_id.clone()), e.to_string()))?;
        let ecommerce = read_ecommerce(&f, Self::NAME).map_err(|e| with_id(e, &item_id))?;
        let images = f
            .nested("Images", "Image")?
            .into_iter()
            .map(Image::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ParseError::new("Item", Some(item_id.clone()), e.to_string()))?;
        let attributes = match f.relation("ItemAttributes")? {
            None => None,
            Some(a) => {
                let af = Fields::new(a, "Item", "__none").map_err(|e| with_id(e, &item_id))?;
                Some(ItemAttributes {
                    attribute1: af.text("attribute1")?,
                    attribute2: af.text("attribute2")?,
                    attribute3: af.text("attribute3")?,
                    item_attribute_set_id: af.foreign_key("itemAttributeSetID")?,
                })
            }
        };
        Ok(Item {
            system_sku: f.text("systemSku")?,
            custom_sku: f.text("customSku")?,
            manufacturer_sku: f.text("manufacturerSku")?,
            upc: f.text("upc")?,
            ean: f.text("ean")?,
            description: f.text("description")?,
            default_cost: f.money("defaultCost")?,
            archived: f.bool("archived")?,
            item_type: f.text("itemType")?,
            publish_to_ecom: f.bool("publishToEcom")?,
            taxable: f.bool_or("tax", true)?,
            tax_class_id: f.foreign_key("taxClassID")?,
            category_id: f.foreign_key("categoryID")?,
            item_matrix_id: f.foreign_key("itemMatrixID")?,
            time_stamp: f.text("timeStamp")?,
            prices,
            item_shops,
            ecommerce,
            images,
            attributes,
            item_id,
        })
    }
}

/// `Prices.ItemPrice[]` of an Item or ItemMatrix.
pub fn read_prices(f: &Fields<'_>, resource: &'static str) -> Result<Vec<ItemPrice>, ParseError> {
    f.nested("Prices", "ItemPrice")?
        .into_iter()
        .map(|p| {
            let pf = Fields::new(p, resource, "__none")?;
            Ok(ItemPrice {
                amount: pf.money("amount")?,
                use_type_id: pf.foreign_key("useTypeID")?,
                use_type: pf.text("useType")?,
            })
        })
        .collect()
}

/// The `ItemECommerce` relation of an Item or ItemMatrix, when loaded.
pub fn read_ecommerce(
    f: &Fields<'_>,
    resource: &'static str,
) -> Result<Option<ItemEcommerce>, ParseError> {
    let Some(e) = f.relation("ItemECommerce")? else {
        return Ok(None);
    };
    let ef = Fields::new(e, resource, "__none")?;
    Ok(Some(ItemEcommerce {
        long_description: ef.text("longDescription")?,
        short_description: ef.text("shortDescription")?,
        weight: ef.text("weight")?,
        width: ef.text("width")?,
        height: ef.text("height")?,
        length: ef.text("length")?,
        list_on_store: ef.bool("listOnStore")?,
    }))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemMatrix {
    pub item_matrix_id: String,
    pub description: String,
    pub item_attribute_set_id: Option<String>,
    pub archived: bool,
    pub time_stamp: String,
}

impl Resource for ItemMatrix {
    const NAME: &'static str = "ItemMatrix";
    const ID: &'static str = "itemMatrixID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(ItemMatrix {
            item_matrix_id: f.required_id("itemMatrixID")?,
            description: f.text("description")?,
            item_attribute_set_id: f.foreign_key("itemAttributeSetID")?,
            archived: f.bool("archived")?,
            time_stamp: f.text("timeStamp")?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemAttributeSet {
    pub item_attribute_set_id: String,
    pub name: String,
    /// attributeName1..3, empty names dropped at the end.
    pub attribute_names: Vec<String>,
}

impl Resource for ItemAttributeSet {
    const NAME: &'static str = "ItemAttributeSet";
    const ID: &'static str = "itemAttributeSetID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        let mut names = vec![
            f.text("attributeName1")?,
            f.text("attributeName2")?,
            f.text("attributeName3")?,
        ];
        while names.last().is_some_and(|n| n.trim().is_empty()) {
            names.pop();
        }
        Ok(ItemAttributeSet {
            item_attribute_set_id: f.required_id("itemAttributeSetID")?,
            name: f.text("name")?,
            attribute_names: names,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub category_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub node_depth: i64,
    pub full_path_name: String,
    pub left_node: i64,
    pub right_node: i64,
    pub time_stamp: String,
}

impl Resource for Category {
    const NAME: &'static str = "Category";
    const ID: &'static str = "categoryID";
    fn from_value(v: &Value) -> Result<Self, ParseError> {
        let f = Fields::new(v, Self::NAME, Self::ID)?;
        Ok(Category {
            category_id: f.required_id("categoryID")?,
            name: f.text("name")?,
            parent_id: f.foreign_key("parentID")?,
            node_depth: f.int("nodeDepth")?,
            full_path_name: f.text("fullPathName")?,
            left_node: f.int("leftNode")?,
            right_node: f.int("rightNode")?,
            time_stamp: f.text("timeStamp")?,
        })
    }
}

/// What an item is, as the catalog defines it: a currency, a potion, a sword, a skin, a crafting material…
public struct ItemDefinition: Sendable, Hashable {
    /// Stable id, used by offers, inventories and ledgers (`gold`, `sword.iron`). Never reuse one.
    public var id: String
    /// Display name.
    public var name: String
    public var category: ItemCategory
    /// Whether several units share one inventory slot.
    public var stackable: Bool
    /// Largest stack of a stackable item; `nil` = no limit. Always 1 for items that do not stack.
    public var maxStack: UInt64?
    /// Whether players may trade the item with each other.
    public var tradeable: Bool

    /// Creates an item. `stackable` defaults to the category's usual behaviour.
    public init(
        id: String,
        name: String,
        category: ItemCategory,
        stackable: Bool? = nil,
        maxStack: UInt64? = nil,
        tradeable: Bool = false
    ) {
        self.id = id
        self.name = name
        self.category = category
        self.stackable = stackable ?? category.stacksByDefault
        self.maxStack = self.stackable ? maxStack : 1
        self.tradeable = tradeable
    }
}

/// The category of an item. Known categories are constants; a catalog file may only use those
/// (validation), while a replica keeps whatever a newer publisher sent.
public struct ItemCategory: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// Paid for things with; offers are priced in items of this category.
    public static let currency = ItemCategory(rawValue: "currency")
    /// Used up when used: potions, boosts, tickets.
    public static let consumable = ItemCategory(rawValue: "consumable")
    /// Worn or wielded: weapons, armour.
    public static let equipment = ItemCategory(rawValue: "equipment")
    /// Looks only: skins, emotes.
    public static let cosmetic = ItemCategory(rawValue: "cosmetic")
    /// Crafting input.
    public static let material = ItemCategory(rawValue: "material")

    /// The categories a catalog file may use.
    public static let known: [ItemCategory] = [.currency, .consumable, .equipment, .cosmetic, .material]

    /// Currencies, consumables and materials stack unless the file says otherwise; equipment and cosmetics do not.
    public var stacksByDefault: Bool {
        self == .currency || self == .consumable || self == .material
    }

    public var description: String { rawValue }
}

import Foundation
import MeridianCatalog
import Testing

/// Line and code of an issue: the parts tests pin down (wording may change).
struct Finding: Hashable, CustomStringConvertible {
    var line: Int
    var code: CatalogIssue.Code
    init(_ line: Int, _ code: CatalogIssue.Code) {
        self.line = line
        self.code = code
    }
    var description: String { "\(line):\(code)" }
}

func findings(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Finding] {
    do {
        let content = try CatalogLoader.parse(yaml: yaml, file: "test.yaml")
        Issue.record("expected the catalog to be rejected, got \(content)", sourceLocation: sourceLocation)
        return []
    } catch {
        let value1 = error.issues.allSatisfy { $0.file == "test.yaml" && $0.description.hasPrefix("test.yaml:") }
        #expect(value1, sourceLocation: sourceLocation)
        return error.issues.map { Finding($0.line, $0.code) }
    }
}

@Suite("Catalog files: loading and validation with file:line")
struct CatalogLoaderTests {
    @Test("Topology/catalogs/example.yaml validates")
    func exampleFile() throws {
        let content = try CatalogLoader.load(path: CatalogSamples.exampleFile)
        let snapshot = CatalogSnapshot(version: 1, content: content)
        #expect(snapshot.item("gold")?.category == .currency)
        #expect(snapshot.item("gold")?.stackable == true)
        #expect(snapshot.item("sword.iron")?.stackable == false)
        #expect(snapshot.item("potion.small")?.maxStack == 20)
        #expect(snapshot.offer("offer.potions-5")?.count == 5)
        #expect(snapshot.offer("offer.skin-aurora")?.price == .init(currency: "gems", amount: 1200))
        #expect(snapshot.offer("offer.skin-aurora")?.isAvailable(at: Date(timeIntervalSince1970: 1_700_000_000)) == false)
        #expect(snapshot.offer("offer.skin-aurora")?.isAvailable(at: Date(timeIntervalSince1970: 1_800_000_000)) == true)
        #expect(snapshot.config.int("max_party_size") == 4)
        #expect(snapshot.config.double("xp_multiplier") == 1.5)
        #expect(snapshot.config.double("match_tick_hz") == 30)
        #expect(snapshot.config.bool("pvp_enabled") == true)
        #expect(snapshot.config.string("motd") == "Welcome to Meridian")
        #expect(snapshot.config.int("motd") == nil)
        #expect(snapshot.flag("new_matchmaker")?.rollout == Rollout(percent: 10))
        #expect(snapshot.flag("cross_region_parties")?.rollout.basisPoints == 250)
        #expect(snapshot.flag("ranked_season_2")?.rollout == .everyone)
    }

    @Test("every problem is reported at its line, none hides another")
    func everyProblemAtItsLine() {
        let yaml = """
            items:
              - { id: gold, name: Gold, category: currency }
              - { id: gold, name: Gold again, category: currency }
              - { id: sword, name: Sword, category: weapon, max_stack: 5 }
              - { id: potion, name: Potion, category: consumable, stackable: "yes", colour: red }
              - { id: bad id!, name: X, category: material }
              - { name: Nameless, category: material }
            offers:
              - { id: o1, item: swrd, price: { currency: gold, amount: 10 } }
              - { id: o1, item: potion, price: { currency: sword, amount: -3 }, count: 0 }
              - { id: o3, item: potion, price: { currency: gems, amount: 1 }, available: { from: 2025-02-01, until: 2025-01-01 } }
              - { id: o4, item: potion, price: { currency: gold, amount: 1 }, available: { from: tomorrow } }
            config:
              max_party_size: 4
              nested: { a: 1 }
              empty:
              max_party_size: 5
            flags:
              f1: { enabled: true, rollout: 150 }
              f2: { enabled: yes please, rollout: 12.345 }
              f3: { rollout: 5 }
              f4: { enabled: true, rollout: "10%" }
            """
        #expect(findings(yaml) == [
            Finding(3, .duplicateID),
            Finding(4, .badValue), Finding(4, .badValue),  // unknown category; max_stack on an item that does not stack
            Finding(5, .wrongType), Finding(5, .unknownKey),
            Finding(6, .badValue),
            Finding(7, .missingField),
            Finding(9, .unknownItem),
            Finding(10, .duplicateID), Finding(10, .unknownCurrency), Finding(10, .badValue), Finding(10, .badValue),
            Finding(11, .unknownCurrency), Finding(11, .badValue),
            Finding(12, .badValue),
            Finding(15, .wrongType),
            Finding(16, .wrongType),
            Finding(17, .duplicateKey),
            Finding(19, .badPercentage),
            Finding(20, .wrongType), Finding(20, .badPercentage),
            Finding(21, .missingField),
            Finding(22, .wrongType),
        ])
    }

    @Test("messages say what is wrong and what to do")
    func messages() throws {
        let yaml = """
            items:
              - { id: gold, name: Gold, category: currency }
              - { id: sword, name: Sword, category: equipmnt }
            offers:
              - { id: o1, item: swrd, price: { currency: sword, amount: 1 } }
            flag:
              f: { enabled: true }
            """
        do {
            _ = try CatalogLoader.parse(yaml: yaml, file: "shop.yaml")
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("shop.yaml:3:41: error: category 'equipmnt' of item 'sword' is not one of"), "\(text)")
            #expect(text.contains("did you mean 'equipment'?"), "\(text)")
            #expect(text.contains("shop.yaml:5:21: error: offer 'o1' sells unknown item 'swrd'; did you mean 'sword'?"), "\(text)")
            #expect(text.contains("shop.yaml:5:46: error: offer 'o1' is priced in 'sword', an item of category equipmnt; prices are paid in items of category currency"), "\(text)")
            #expect(text.contains("shop.yaml:6:1: error: unknown key 'flag' in the catalog; did you mean 'flags'?"), "\(text)")
        }
    }

    @Test("wrong types at the top level and in lists")
    func wrongShapes() {
        #expect(findings("items: 3\n") == [Finding(1, .wrongType)])
        let value2 = findings("items: []\noffers: { a: 1 }\nconfig: [1]\nflags: 7\n")
        #expect(value2 == [
            Finding(2, .wrongType), Finding(3, .wrongType), Finding(4, .wrongType),
        ])
        #expect(findings("items:\n  - 5\n  - [a]\n") == [Finding(2, .wrongType), Finding(3, .wrongType)])
        #expect(findings("- 1\n") == [Finding(1, .wrongType)])
        #expect(findings("offers: []\n") == [Finding(1, .missingField)])
        let value3 = findings("items:\n  - { id: x, name: X, category: material, max_stack: 0 }\n")
        #expect(value3 == [Finding(2, .badValue)])
        let value4 = findings("items:\n  - { id: x, name: X, category: material, tradeable: 1 }\n")
        #expect(value4 == [Finding(2, .wrongType)])
    }

    @Test("YAML problems: syntax, aliases, empty file, repeated keys")
    func yamlProblems() {
        #expect(findings("items: [\n") == [Finding(2, .syntax)])
        #expect(findings("") == [Finding(1, .missingField)])
        #expect(findings("items: &a []\noffers: *a\n") == [Finding(2, .syntax)])
        #expect(findings("items: []\nitems: []\n") == [Finding(2, .duplicateKey)])
        let value5 = findings("items: []\nflags:\n  a: { enabled: true }\n  a: { enabled: false }\n")
        #expect(value5 == [Finding(4, .duplicateKey)])
    }

    @Test("flag percentages: 0 to 100 with at most two decimals")
    func percentages() throws {
        for (rollout, basisPoints) in [("0", 0), ("100", 10_000), ("12.5", 1_250), ("0.01", 1), ("99.99", 9_999)] {
            let content = try CatalogLoader.parse(yaml: "items: []\nflags:\n  f: { enabled: true, rollout: \(rollout) }\n")
            #expect(content.flags.first?.rollout.basisPoints == UInt16(basisPoints), "rollout \(rollout)")
        }
        for rollout in ["-1", "100.5", "0.001", ".inf", ".nan"] {
            let found = findings("items: []\nflags:\n  f: { enabled: true, rollout: \(rollout) }\n")
            #expect(found.count == 1 && found[0].line == 3, "rollout \(rollout): \(found)")
        }
    }

    @Test("an unreadable file is one issue without a line")
    func unreadable() {
        #expect(throws: CatalogError.self) { try CatalogLoader.load(path: "/nonexistent/catalog.yaml") }
        do {
            _ = try CatalogLoader.load(path: "/nonexistent/catalog.yaml")
        } catch {
            #expect(error.issues.map(\.code) == [.unreadable])
            #expect(error.issues.first?.line == 0)
        }
    }

    @Test("content built in code is validated with the same rules")
    func contentValidation() throws {
        try CatalogSamples.consistent(generation: 3).validate()
        var bad = CatalogSamples.consistent(generation: 3)
        bad.offers.append(StoreOffer(id: "offer.ghost", item: "ghost", price: .init(currency: "gold", amount: 1)))
        bad.items.append(bad.items[1])
        #expect(throws: CatalogError.self) { try bad.validate() }
        do {
            try bad.validate(source: "wire")
        } catch {
            #expect(Set(error.issues.map(\.code)) == [.unknownItem, .duplicateID])
            let value6 = error.issues.allSatisfy { $0.line == 0 && $0.file == "wire" }
            #expect(value6)
        }
    }
}

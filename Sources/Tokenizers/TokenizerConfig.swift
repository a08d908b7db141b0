import Foundation
import Support
import Weights

/// What a model folder's `tokenizer_config.json` (and `special_tokens_map.json`) say about special
/// tokens, BOS/EOS insertion, padding and the chat template.
///
/// ```swift
/// let config = try TokenizerConfig(folder: modelFolder)   // either file may be absent
/// config.bosToken        // "<s>"
/// config.addBosToken     // true
/// config.chatTemplate    // "{% for message in messages %}..."
/// ```
public struct TokenizerConfig: Sendable, Equatable {
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
    /// nil when the config does not say (the tokenizer's own default applies).
    public var addBosToken: Bool?
    public var addEosToken: Bool?
    public var chatTemplate: String?
    public var modelMaxLength: Int?
    public var paddingSide: PaddingSide?
    public var cleanUpTokenizationSpaces: Bool?
    /// `added_tokens_decoder`: id -> (content, special).
    public var addedTokens: [Int: (content: String, special: Bool)] = [:]
    /// The `tokenizer_config.json` these came from, for messages (nil: none was read).
    public var file: String?

    public init() {}

    public static func == (a: TokenizerConfig, b: TokenizerConfig) -> Bool {
        a.bosToken == b.bosToken && a.eosToken == b.eosToken && a.padToken == b.padToken && a.unkToken == b.unkToken
            && a.addBosToken == b.addBosToken && a.addEosToken == b.addEosToken && a.chatTemplate == b.chatTemplate
            && a.modelMaxLength == b.modelMaxLength && a.paddingSide == b.paddingSide
            && a.cleanUpTokenizationSpaces == b.cleanUpTokenizationSpaces
            && a.addedTokens.mapValues(\.content) == b.addedTokens.mapValues(\.content)
    }

    /// Reads `tokenizer_config.json` and `special_tokens_map.json` from a folder; tokens named in the
    /// config win over the map. Missing files give an empty config; malformed ones throw.
    public init(folder: URL) throws {
        self.init()
        let mapURL = folder.appendingPathComponent("special_tokens_map.json")
        if FileManager.default.fileExists(atPath: mapURL.path) {
            let map = try readJSONObject(mapURL)
            bosToken = try tokenText(map["bos_token"], mapURL, "bos_token")
            eosToken = try tokenText(map["eos_token"], mapURL, "eos_token")
            padToken = try tokenText(map["pad_token"], mapURL, "pad_token")
            unkToken = try tokenText(map["unk_token"], mapURL, "unk_token")
        }
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            try merge(json: readJSONObject(configURL), source: configURL.path)
        }
    }

    /// Reads one `tokenizer_config.json` object (already parsed) into this config.
    public mutating func merge(json: [String: Any], source: String) throws {
        file = source
        let url = URL(fileURLWithPath: source)
        bosToken = try tokenText(json["bos_token"], url, "bos_token") ?? bosToken
        eosToken = try tokenText(json["eos_token"], url, "eos_token") ?? eosToken
        padToken = try tokenText(json["pad_token"], url, "pad_token") ?? padToken
        unkToken = try tokenText(json["unk_token"], url, "unk_token") ?? unkToken
        addBosToken = try optionalBool(json["add_bos_token"], url, "add_bos_token") ?? addBosToken
        addEosToken = try optionalBool(json["add_eos_token"], url, "add_eos_token") ?? addEosToken
        cleanUpTokenizationSpaces = try optionalBool(json["clean_up_tokenization_spaces"], url,
                                                     "clean_up_tokenization_spaces") ?? cleanUpTokenizationSpaces
        if let side = json["padding_side"] as? String {
            guard let parsed = PaddingSide(rawValue: side) else {
                throw TokenizerError(source, field: "padding_side", "expected \"left\" or \"right\", got \"\(side)\"")
            }
            paddingSide = parsed
        }
        if let length = json["model_max_length"] as? NSNumber {
            // Unlimited models write 1e30; anything past Int's range means "no limit".
            let value = length.doubleValue
            modelMaxLength = value >= 1 && value < 1e15 ? Int(value) : nil
        }
        switch json["chat_template"] {
        case nil, is NSNull: break
        case let text as String: chatTemplate = text
        case let named as [[String: Any]]:
            // A list of {name, template}: the one named "default" is the chat template.
            chatTemplate = named.first { $0["name"] as? String == "default" }?["template"] as? String
                ?? named.first?["template"] as? String
        default: throw TokenizerError(source, field: "chat_template", "expected a string or a list of {name, template}")
        }
        if let decoder = json["added_tokens_decoder"] as? [String: Any] {
            for (key, value) in decoder {
                guard let id = Int(key), let entry = value as? [String: Any], let content = entry["content"] as? String else {
                    throw TokenizerError(source, field: "added_tokens_decoder[\"\(key)\"]", "expected an id and {content, special}")
                }
                addedTokens[id] = (content, entry["special"] as? Bool ?? false)
            }
        }
    }
}

/// A special token given as `"<s>"` or as `{"content": "<s>", ...}`.
private func tokenText(_ value: Any?, _ url: URL, _ field: String) throws -> String? {
    switch value {
    case nil, is NSNull: return nil
    case let text as String: return text
    case let object as [String: Any]:
        guard let content = object["content"] as? String else {
            throw TokenizerError(url.path, field: field, "expected a string or {\"content\": ...}")
        }
        return content
    default: throw TokenizerError(url.path, field: field, "expected a string or {\"content\": ...}")
    }
}

private func optionalBool(_ value: Any?, _ url: URL, _ field: String) throws -> Bool? {
    switch value {
    case nil, is NSNull: return nil
    case let flag as Bool: return flag
    default: throw TokenizerError(url.path, field: field, "expected true or false")
    }
}

/// Reads a JSON file whose top level is an object (`JSONFile`), its problems as `TokenizerError`s naming it.
func readJSONObject(_ url: URL) throws -> [String: Any] {
    do {
        return try JSONFile.readObject(url)
    } catch let e as WeightsError {
        throw TokenizerError(url.path, field: e.field ?? "", e.message)
    } catch let e as FileSystemError {
        throw TokenizerError(url.path, "\(e.operation): \(e.reason)")
    }
}

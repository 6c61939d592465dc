using System.Text.Json;
using System.Text.Json.Serialization;
using BillingConsole.Engine.Commands;

namespace BillingConsole.Api;

/// <summary>
/// Serialization code generated at build time for the upstream API's read answers, in the same web defaults (camelCase)
/// as the rest of the API, so the answer is byte for byte what reflection wrote.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(InvoicePage))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

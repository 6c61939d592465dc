using System.ComponentModel.DataAnnotations;
using System.Net;

namespace BillingConsole.Api.Webhooks;

/// <summary>appsettings.json "Gateway:Webhooks": how gateway webhooks are authenticated.</summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Gateway:Webhooks";

    /// <summary>Signing secret per gateway name; from the environment or user secrets, never the repository. Empty: refused.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How far a signature's timestamp may be from now; older deliveries are treated as replays.</summary>
    [Range(1, 86_400)] public int ToleranceSeconds { get; set; } = 300;

    /// <summary>CIDR ranges the gateway posts from; empty allows any address.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        AllowedNetworks.Where(n => !IPNetwork.TryParse(n, out _))
            .Select(n => new ValidationResult($"'{n}' is not a CIDR range such as 203.0.113.0/24.", [nameof(AllowedNetworks)]));

    public IReadOnlyList<IPNetwork> Networks() => [.. AllowedNetworks.Select(IPNetwork.Parse)];
}

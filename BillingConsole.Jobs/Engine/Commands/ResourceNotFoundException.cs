namespace BillingConsole.Engine.Commands;

/// <summary>A command named a record that does not exist. The message is meant for a person.</summary>
public sealed class ResourceNotFoundException(string resource, Guid id) : Exception($"No {resource} has the id {id}.")
{
    public string Resource { get; } = resource;
    public Guid Id { get; } = id;
}

using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;

namespace BillingConsole.Engine.Notifications;

/// <summary>The three parts of one kind's template, in Liquid.</summary>
public sealed record NotificationTemplate(string Subject, string Html, string Text);

/// <summary>An email as it goes out: the subject on one line, the HTML (inside the shared frame) and the plain-text part.</summary>
public sealed record RenderedNotification(string Subject, string Html, string Text);

/// <summary>Why a template does not render, and in which part.</summary>
public sealed record TemplateProblem(string Part, string Message)
{
    public override string ToString() => $"{Part}: {Message}";
}

/// <summary>A template that does not render; the message says which part and where.</summary>
public sealed class TemplateRenderException(IReadOnlyList<TemplateProblem> problems)
    : InvalidOperationException(string.Join(" ", problems))
{
    public IReadOnlyList<TemplateProblem> Problems { get; } = problems;
}

/// <summary>
/// Renders notification templates with Fluid (Liquid), pure: the shipped defaults come from embedded resources, values come
/// only from <see cref="NotificationVariables"/>, and strict variables and filters make a misspelt name an error instead of
/// an empty gap. The HTML part is the body only; it is placed in a frame shared by every kind (the seller's name on top,
/// the seller's address and tax id at the foot, inline styles that mail clients keep).
/// </summary>
public static class NotificationTemplates
{
    public const string SubjectPart = "Subject";
    public const string HtmlPart = "HTML";
    public const string TextPart = "Text";
    /// <summary>Longest template part accepted, so that a stored template cannot make rendering expensive.</summary>
    public const int MaxPartLength = 50_000;

    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = new TemplateOptionsBuilder()
        .WithStrictVariables()
        .WithStrictFilters()
        .WithMaxSteps(100_000)
        .WithMaxOutputSize(1_000_000)
        .Build();
    // Values are escaped for HTML, but accents and currency signs stay readable.
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly ConcurrentDictionary<string, NotificationTemplate> Shipped = new();
    private static readonly Lazy<IFluidTemplate> Frame = new(() => Parser.Parse(Resource("frame.html")));

    /// <summary>The template shipped with the product for <paramref name="kind"/>.</summary>
    public static NotificationTemplate Default(string kind) => Shipped.GetOrAdd(NotificationKinds.ShippedTemplateOf(kind), shipped =>
        new NotificationTemplate(Resource($"{shipped}.subject").Trim(), Resource($"{shipped}.html"), Resource($"{shipped}.txt")));

    /// <summary>What keeps the template from rendering (a syntax error, an unknown variable or filter); empty when it renders.</summary>
    public static IReadOnlyList<TemplateProblem> Check(NotificationTemplate template)
    {
        var problems = new List<TemplateProblem>();
        foreach (var (part, source) in Parts(template))
        {
            if (string.IsNullOrWhiteSpace(source)) problems.Add(new(part, "is empty."));
            else if (source.Length > MaxPartLength) problems.Add(new(part, $"is longer than {MaxPartLength:N0} characters."));
            else if (RenderPart(part, source, NotificationVariables.Sample, null) is { Problem: { } problem }) problems.Add(problem);
        }
        return problems;
    }

    /// <summary>The email, or <see cref="TemplateRenderException"/> naming the part that does not render.</summary>
    public static RenderedNotification Render(NotificationTemplate template, NotificationVariables variables)
    {
        var subject = RenderPart(SubjectPart, template.Subject, variables, null);
        var body = RenderPart(HtmlPart, template.Html, variables, Html);
        var text = RenderPart(TextPart, template.Text, variables, null);
        var problems = new[] { subject.Problem, body.Problem, text.Problem }.OfType<TemplateProblem>().ToList();
        if (problems.Count > 0) throw new TemplateRenderException(problems);
        var framed = Frame.Value.Render(Context(variables, body.Output!), Html);
        return new RenderedNotification(OneLine(subject.Output!), framed, text.Output!.Trim() + "\n");
    }

    private static IEnumerable<(string Part, string Source)> Parts(NotificationTemplate template) =>
        [(SubjectPart, template.Subject), (HtmlPart, template.Html), (TextPart, template.Text)];

    private static (string? Output, TemplateProblem? Problem) RenderPart(string part, string source, NotificationVariables variables,
        TextEncoder? encoder)
    {
        if (!Parser.TryParse(source, out var parsed, out var error)) return (null, new TemplateProblem(part, error));
        try
        {
            return (parsed.Render(Context(variables, null), encoder ?? NullEncoder.Default), null);
        }
        catch (Exception e) when (e is FluidException or InvalidOperationException or ArgumentException)
        {
            return (null, new TemplateProblem(part, e.Message));
        }
    }

    private static TemplateContext Context(NotificationVariables variables, string? content)
    {
        var context = new TemplateContext(Options);
        foreach (var (name, value) in variables.ByName()) context.SetValue(name, value);
        // The frame's slot for the rendered body, already encoded (the frame writes it with the raw filter).
        if (content is not null) context.SetValue("content", content);
        return context;
    }

    private static string OneLine(string subject) => string.Join(' ', subject.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Resource(string name)
    {
        using var stream = typeof(NotificationTemplates).Assembly.GetManifestResourceStream($"BillingConsole.Notifications.{name}.liquid")
            ?? throw new InvalidOperationException($"The shipped notification template '{name}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

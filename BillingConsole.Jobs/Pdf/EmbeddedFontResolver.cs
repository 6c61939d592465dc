using System.Collections.Concurrent;
using PdfSharp.Fonts;

namespace BillingConsole.Pdf;

/// <summary>
/// Serves DejaVu Sans (regular and bold) from this assembly's resources, so a PDF never depends on the fonts a machine has.
/// Every family name resolves to DejaVu Sans: the invoice uses no other, and a missing font must not fail a download.
/// </summary>
public sealed class EmbeddedFontResolver : IFontResolver
{
    public const string Family = "DejaVu Sans";
    private const string Regular = "DejaVuSans";
    private const string Bold = "DejaVuSans-Bold";

    private static readonly Lock InstallLock = new();
    private static bool _installed;
    private readonly ConcurrentDictionary<string, byte[]> _faces = new();

    private EmbeddedFontResolver() { }

    public static EmbeddedFontResolver Instance { get; } = new();

    /// <summary>
    /// PDFsharp accepts its global resolver once, before the first font is used; concurrent first renders must not race to set it.
    /// </summary>
    public static void Install()
    {
        if (Volatile.Read(ref _installed)) return;
        lock (InstallLock)
        {
            if (_installed) return;
            if (GlobalFontSettings.FontResolver is not null && GlobalFontSettings.FontResolver != Instance)
                throw new InvalidOperationException("Another PDFsharp font resolver is installed; invoice PDFs need the embedded DejaVu fonts.");
            GlobalFontSettings.FontResolver = Instance;
            Volatile.Write(ref _installed, true);
        }
    }

    public FontResolverInfo ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        new(isBold ? Bold : Regular, mustSimulateBold: false, mustSimulateItalic: isItalic);

    public byte[] GetFont(string faceName) => _faces.GetOrAdd(faceName, Load);

    private static byte[] Load(string faceName)
    {
        var name = $"BillingConsole.Pdf.Fonts.{faceName}.ttf";
        using var stream = typeof(EmbeddedFontResolver).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The font resource {name} is missing from the build.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}

using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Parser.Parts;
using UglyToad.PdfPig.Tokens;

namespace BillingConsole.Tests.Pdf;

/// <summary>A PDF read back with PdfPig: each page's text, its words, and facts about its fonts and letters.</summary>
internal sealed class RenderedPdf
{
    private RenderedPdf(IReadOnlyList<PageContent> pages) => Pages = pages;

    public IReadOnlyList<PageContent> Pages { get; }

    /// <summary>Every page's text without whitespace: text drawn in several pieces (wrapped lines) still matches.</summary>
    public string Squeezed => string.Concat(Pages.Select(p => p.Squeezed));

    public IReadOnlySet<string> Words => Pages.SelectMany(p => p.Words).ToHashSet();

    public bool Contains(string text) => Squeezed.Contains(Squeeze(text), StringComparison.Ordinal);

    public static string Squeeze(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));

    public static RenderedPdf Read(byte[] pdf)
    {
        using var document = PdfDocument.Open(pdf);
        return new RenderedPdf(document.GetPages().Select(page => new PageContent(
            Squeeze(page.Text),
            page.GetWords().Select(w => w.Text).ToList(),
            page.Letters.ToList(),
            page.Width,
            page.Height,
            Fonts(document, page).ToList())).ToList());
    }

    /// <summary>The fonts a page's resources name, with whether each carries its font program.</summary>
    private static IEnumerable<PageFont> Fonts(PdfDocument document, Page page)
    {
        var scanner = document.Structure.TokenScanner;
        T Resolve<T>(IToken token) where T : class, IToken =>
            DirectObjectFinder.Get<T>(token, scanner) ?? throw new InvalidOperationException($"{token} is not a {typeof(T).Name}.");

        var resources = Resolve<DictionaryToken>(page.Dictionary.Data["Resources"]);
        foreach (var entry in Resolve<DictionaryToken>(resources.Data["Font"]).Data.Values)
        {
            var font = Resolve<DictionaryToken>(entry);
            var baseFont = Resolve<NameToken>(font.Data["BaseFont"]).Data;
            // A composite (Type0) font keeps its descriptor on its descendant font.
            var described = font.Data.TryGetValue("DescendantFonts", out var descendants)
                ? Resolve<DictionaryToken>(Resolve<ArrayToken>(descendants).Data[0])
                : font;
            var embedded = described.Data.TryGetValue("FontDescriptor", out var descriptor)
                && Resolve<DictionaryToken>(descriptor).Data.Keys.Any(k => k is "FontFile" or "FontFile2" or "FontFile3");
            yield return new PageFont(baseFont, embedded, Standard14.IsFontInStandard14(baseFont));
        }
    }
}

internal sealed record PageContent(string Squeezed, IReadOnlyList<string> Words, IReadOnlyList<Letter> Letters, double Width, double Height,
    IReadOnlyList<PageFont> Fonts);

internal sealed record PageFont(string BaseFont, bool Embedded, bool Standard14);

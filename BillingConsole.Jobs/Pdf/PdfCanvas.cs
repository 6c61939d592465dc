using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace BillingConsole.Pdf;

internal enum Align { Left, Right, Center }

/// <summary>
/// A4 pages drawn top to bottom with a cursor: text that never leaves its box (wrapped, ellipsised or shrunk),
/// rules, and a new page with a continuation header whenever the next block would not fit above the footer.
/// </summary>
internal sealed class PdfCanvas(PdfDocument document, Action<PdfCanvas> continuationHeader) : IDisposable
{
    public const double Margin = 48;
    private const string Ellipsis = "…";
    private XGraphics? _graphics;

    public double PageWidth { get; private set; }
    public double PageHeight { get; private set; }
    public double Left => Margin;
    public double Right => PageWidth - Margin;
    public double ContentWidth => Right - Left;
    /// <summary>The footer's band at the foot of every page, from its rule down.</summary>
    public const double FooterHeight = 68;
    /// <summary>Where content ends on every page, a little above the footer's rule.</summary>
    public double Bottom => PageHeight - FooterHeight - 10;
    public double Y { get; set; }
    public XGraphics Graphics => _graphics ?? throw new InvalidOperationException("No page has been started.");

    public void NewPage()
    {
        _graphics?.Dispose();
        var page = document.AddPage();
        page.Size = PageSize.A4;
        PageWidth = page.Width.Point;
        PageHeight = page.Height.Point;
        _graphics = XGraphics.FromPdfPage(page);
        Y = Margin;
        if (document.PageCount > 1) continuationHeader(this);
    }

    /// <summary>Starts a new page when a block of this height would run into the footer.</summary>
    public void EnsureRoom(double height)
    {
        if (Y + height > Bottom) NewPage();
    }

    public static double LineHeight(XFont font) => font.GetHeight();

    public double Width(string text, XFont font) => Graphics.MeasureString(text, font).Width;

    /// <summary>One line of text whose top is at <paramref name="top"/>, ellipsised to the width of its box.</summary>
    public void Text(string text, XFont font, XBrush brush, double x, double top, double width, Align align = Align.Left) =>
        DrawLine(Graphics, Fit(text, font, width), font, brush, x, top, width, align);

    /// <summary>An amount is never cut: when it is wider than its box, its type gets smaller until it fits.</summary>
    public void Amount(string text, XFont font, XBrush brush, double x, double top, double width, Align align = Align.Right)
    {
        var fitted = font;
        while (Width(text, fitted) > width && fitted.Size > 5)
            fitted = new XFont(font.FontFamily.Name, fitted.Size - 0.5, font.Bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);
        DrawLine(Graphics, text, fitted, brush, x, top + (font.Size - fitted.Size) * 0.8, width, align);
    }

    /// <summary>Word-wrapped lines, at most <paramref name="maxLines"/>; the last one ends in an ellipsis when text is left over.</summary>
    public IReadOnlyList<string> Wrap(string text, XFont font, double width, int maxLines)
    {
        var lines = new List<string>();
        var words = new Queue<string>(text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        while (words.Count > 0 && lines.Count < maxLines)
        {
            var line = words.Dequeue();
            if (Width(line, font) > width)
            {
                // A word wider than the column (a long reference, a URL) is broken where it reaches the edge.
                var cut = FittingLength(line, font, width);
                words = new Queue<string>([line[cut..], .. words]);
                line = line[..cut];
            }
            while (words.Count > 0 && Width(line + " " + words.Peek(), font) <= width) line += " " + words.Dequeue();
            lines.Add(line);
        }
        if (words.Count > 0) lines[^1] = Fit(lines[^1] + " " + string.Join(' ', words), font, width);
        return lines;
    }

    public void Rule(double x1, double x2, double y, XColor color, double thickness = 0.5) =>
        Graphics.DrawLine(new XPen(color, thickness), x1, y, x2, y);

    public void Fill(XRect area, XColor color) => Graphics.DrawRectangle(new XSolidBrush(color), area);

    /// <summary>The text itself when it fits, otherwise as much as fits followed by an ellipsis.</summary>
    public string Fit(string text, XFont font, double width)
    {
        if (Width(text, font) <= width) return text;
        var ellipsis = Width(Ellipsis, font);
        return text[..FittingLength(text, font, width - ellipsis)].TrimEnd() + Ellipsis;
    }

    private int FittingLength(string text, XFont font, double width)
    {
        var length = 0;
        while (length < text.Length && Width(text[..(length + 1)], font) <= width) length++;
        return Math.Max(length, 1);
    }

    /// <summary>Draws on any page's graphics: the footers are added once the page count is known.</summary>
    public static void DrawLine(XGraphics graphics, string text, XFont font, XBrush brush, double x, double top, double width, Align align)
    {
        var format = align switch { Align.Right => XStringFormats.TopRight, Align.Center => XStringFormats.TopCenter, _ => XStringFormats.TopLeft };
        graphics.DrawString(text, font, brush, new XRect(x, top, width, LineHeight(font)), format);
    }

    public void Dispose()
    {
        _graphics?.Dispose();
        _graphics = null;
    }
}
